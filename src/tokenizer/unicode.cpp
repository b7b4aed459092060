#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace nibble::tok {
namespace {
#include "tokenizer/unicode_tables.inc"

// Hangul syllable composition constants (Unicode ch. 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

uint8_t ccc(uint32_t cp) {
  if (cp < 0x300) return 0;
  size_t lo = 0, hi = kCccCount;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kCcc[mid][0] < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (lo < kCccCount && kCcc[lo][0] == cp) ? static_cast<uint8_t>(kCcc[lo][1]) : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out->push_back(kTBase + s % kTCount);
    return;
  }
  size_t lo = 0, hi = kDecompCount;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kDecomp[mid][0] < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < kDecompCount && kDecomp[lo][0] == cp) {
    for (uint32_t k = 0; k < kDecomp[lo][2]; ++k) out->push_back(kDecompPool[kDecomp[lo][1] + k]);
  } else {
    out->push_back(cp);
  }
}

uint32_t compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  uint64_t key = (uint64_t{a} << 32) | b;
  const uint64_t* it = std::lower_bound(kCompPairs, kCompPairs + kCompCount, key);
  if (it != kCompPairs + kCompCount && *it == key) return kCompResult[it - kCompPairs];
  return 0;
}

// NFC of one run of valid code points.
void nfc_run(const std::vector<uint32_t>& cps, std::string* out) {
  std::vector<uint32_t> d;
  d.reserve(cps.size() + 8);
  for (uint32_t cp : cps) decompose(cp, &d);
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (ccc(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && ccc(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + i, d.begin() + j,
                     [](uint32_t x, uint32_t y) { return ccc(x) < ccc(y); });
    i = j;
  }
  // Canonical composition.
  std::vector<uint32_t> r;
  r.reserve(d.size());
  // A character composes with the last starter unless blocked: something lies between them
  // whose combining class is zero or not lower than its own.
  size_t starter = SIZE_MAX;
  int last_cc = 0;  // class of the last character kept after the starter
  for (uint32_t cp : d) {
    int cc = ccc(cp);
    if (starter != SIZE_MAX) {
      bool adjacent = r.size() == starter + 1;
      if (adjacent || (last_cc != 0 && last_cc < cc)) {
        if (uint32_t c = compose(r[starter], cp); c != 0) {
          r[starter] = c;
          continue;
        }
      }
    }
    if (cc == 0) {
      starter = r.size();
      last_cc = 0;
    } else {
      last_cc = cc;
    }
    r.push_back(cp);
  }
  for (uint32_t cp : r) utf8_append(out, cp);
}

struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 512> from_cp{};
  ByteMap() {
    from_cp.fill(-1);
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? b : 256 + n++;
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

uint16_t cp_flags(uint32_t cp) {
  if (cp >= 0x110000) return 0;
  return kCatStage2[size_t{kCatStage1[cp >> 8]} * 256 + (cp & 0xFF)];
}

const char* unicode_version() { return kUnicodeVersion; }

size_t utf8_next(std::string_view s, size_t i, uint32_t* cp) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  uint8_t b0 = p[i];
  *cp = kInvalidCp;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  uint32_t v;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    v = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    v = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  if (i + len > n) return 1;
  for (size_t k = 1; k < len; ++k) {
    uint8_t b = p[i + k];
    uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 1;
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  return len;
}

void utf8_decode(std::string_view s, std::vector<Cpt>* out) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t len = utf8_next(s, i, &cp);
    out->push_back({cp, static_cast<uint32_t>(i), static_cast<uint8_t>(len),
                    cp == kInvalidCp ? uint16_t{0} : cp_flags(cp)});
    i += len;
  }
}

void utf8_append(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool utf8_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += utf8_next(s, i, &cp);
    if (cp == kInvalidCp) return false;
  }
  return true;
}

bool nfc_quick_check(std::string_view s) {
  // U+0300 is the first code point that can change under NFC (as a combining mark, or as
  // part of a decomposable character); its UTF-8 lead byte is 0xCC.
  for (unsigned char c : s)
    if (c >= 0xCC) return false;
  return true;
}

namespace {

// A code point NFC may change or combine with what precedes it: a non-starter, one with a
// canonical decomposition (Hangul syllables excepted: they only change when a trailing jamo
// follows, and that jamo is itself flagged), or the second element of a composition.
// Anything else is left alone by NFC together with its neighbours.
struct NfcFlags {
  std::vector<uint8_t> bmp;      // 0x10000 entries
  std::vector<uint32_t> astral;  // sorted flagged code points above the BMP
  static bool compute(uint32_t cp, const std::vector<uint32_t>& seconds) {
    if (cp < 0x300) return false;
    if (ccc(cp) != 0) return true;
    if (cp >= 0x1161 && cp <= 0x1175) return true;  // Hangul V
    if (cp >= 0x11A8 && cp <= 0x11C2) return true;  // Hangul T
    if (cp >= kSBase && cp < kSBase + kSCount) return false;
    size_t lo = 0, hi = kDecompCount;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (kDecomp[mid][0] < cp)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < kDecompCount && kDecomp[lo][0] == cp) return true;
    return std::binary_search(seconds.begin(), seconds.end(), cp);
  }
  NfcFlags() {
    std::vector<uint32_t> seconds;
    for (uint32_t i = 0; i < kCompCount; ++i)
      seconds.push_back(static_cast<uint32_t>(kCompPairs[i] & 0xFFFFFFFFu));
    std::sort(seconds.begin(), seconds.end());
    bmp.resize(0x10000);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) bmp[cp] = compute(cp, seconds);
    for (uint32_t i = 0; i < kCccCount; ++i)
      if (kCcc[i][0] >= 0x10000) astral.push_back(kCcc[i][0]);
    for (uint32_t i = 0; i < kDecompCount; ++i)
      if (kDecomp[i][0] >= 0x10000) astral.push_back(kDecomp[i][0]);
    for (uint32_t c : seconds)
      if (c >= 0x10000) astral.push_back(c);
    std::sort(astral.begin(), astral.end());
  }
  bool operator()(uint32_t cp) const {
    if (cp < 0x10000) return bmp[cp];
    return std::binary_search(astral.begin(), astral.end(), cp);
  }
};

const NfcFlags& nfc_flags() {
  static const NfcFlags f;
  return f;
}

}  // namespace

std::string nfc(std::string_view s) {
  if (nfc_quick_check(s)) return std::string(s);
  const NfcFlags& flagged = nfc_flags();
  std::vector<Cpt> cps;
  utf8_decode(s, &cps);
  const size_t n = cps.size();
  auto valid = [&](size_t k) { return cps[k].cp != kInvalidCp; };
  auto byte_at = [&](size_t k) { return k < n ? size_t{cps[k].offset} : s.size(); };
  std::string out;
  out.reserve(s.size());
  std::vector<uint32_t> run;
  size_t copied = 0;  // code points before this index are in `out`
  for (size_t k = 0; k < n; ++k) {
    if (!valid(k) || !flagged(cps[k].cp)) continue;
    // Renormalize from the starter before this code point to the next unflagged one.
    size_t j = k;
    while (j > copied && valid(j - 1) && ccc(cps[j - 1].cp) != 0) --j;
    if (j > copied && valid(j - 1)) --j;
    size_t e = k + 1;
    while (e < n && valid(e) && flagged(cps[e].cp)) ++e;
    out.append(s.substr(byte_at(copied), byte_at(j) - byte_at(copied)));
    run.clear();
    for (size_t q = j; q < e; ++q) run.push_back(cps[q].cp);
    nfc_run(run, &out);
    copied = e;
    k = e - 1;
  }
  out.append(s.substr(byte_at(copied)));
  return out;
}

std::string nfc_reference(std::string_view s) {
  std::string out;
  std::vector<uint32_t> run;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t len = utf8_next(s, i, &cp);
    if (cp == kInvalidCp) {
      nfc_run(run, &out);
      run.clear();
      out.push_back(s[i]);
    } else {
      run.push_back(cp);
    }
    i += len;
  }
  nfc_run(run, &out);
  return out;
}

uint32_t byte_to_cp(uint8_t b) { return byte_map().to_cp[b]; }

int cp_to_byte(uint32_t cp) { return cp < 512 ? byte_map().from_cp[cp] : -1; }

}  // namespace nibble::tok
