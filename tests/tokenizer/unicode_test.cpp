// Unicode layer: category tables, lenient UTF-8 decoding, NFC, GPT-2 byte mapping.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/unicode.h"

namespace nibble::tok {
namespace {

std::string u8(std::initializer_list<uint32_t> cps) {
  std::string s;
  for (uint32_t c : cps) utf8_append(&s, c);
  return s;
}

TEST(Unicode, CategoryFlags) {
  EXPECT_EQ(cp_flags('a'), kLetter | kLower);
  EXPECT_EQ(cp_flags('Z'), kLetter | kUpper);
  EXPECT_EQ(cp_flags(0x1C5), kLetter | kTitle);     // ǅ
  EXPECT_EQ(cp_flags(0x2B0), kLetter | kModifier);  // ʰ
  EXPECT_EQ(cp_flags('7'), kNumber);
  EXPECT_EQ(cp_flags(0x00BD), kNumber);  // ½ (No)
  EXPECT_EQ(cp_flags(0x0663), kNumber);  // Arabic-Indic 3
  EXPECT_EQ(cp_flags('!'), kPunct);
  EXPECT_EQ(cp_flags('$'), kSymbol);
  EXPECT_EQ(cp_flags('+'), kSymbol);
  EXPECT_EQ(cp_flags(0x0301), kMark);
  EXPECT_EQ(cp_flags(' '), kSeparator | kWhitespace);
  EXPECT_EQ(cp_flags('\n'), kOther | kWhitespace);
  EXPECT_EQ(cp_flags(0x3000), kSeparator | kWhitespace);  // ideographic space
  EXPECT_EQ(cp_flags(0x1C), kOther);  // not White_Space, although str.isspace() says so
  EXPECT_EQ(cp_flags(0x4F60), kLetter | kOtherLetter);  // 你
  EXPECT_EQ(cp_flags(0x1F600), kSymbol);                // 😀
  EXPECT_EQ(cp_flags(0x10FFFF), kOther);                // unassigned
  EXPECT_EQ(cp_flags(0x110000), 0);
  EXPECT_NE(std::string(unicode_version()), "");
}

TEST(Unicode, DecodeKeepsInvalidBytes) {
  // a, é, lone continuation, overlong '/', surrogate U+D800, truncated 3-byte, 😀
  std::string s =
      "a\xC3\xA9\x80\xC0\xAF\xED\xA0\x80\xE4\xBD"
      "\xF0\x9F\x98\x80";
  std::vector<Cpt> cps;
  utf8_decode(s, &cps);
  std::vector<uint32_t> got;
  size_t total = 0;
  for (auto& c : cps) {
    got.push_back(c.cp);
    EXPECT_EQ(c.offset, total);
    total += c.len;
  }
  EXPECT_EQ(total, s.size());
  const uint32_t X = kInvalidCp;
  EXPECT_EQ(got, (std::vector<uint32_t>{'a', 0xE9, X, X, X, X, X, X, X, X, 0x1F600}));
  EXPECT_FALSE(utf8_valid(s));
  EXPECT_TRUE(utf8_valid("plain \xE4\xBD\xA0"));
}

TEST(Unicode, Nfc) {
  EXPECT_EQ(nfc(u8({'e', 0x301})), u8({0xE9}));
  EXPECT_EQ(nfc(u8({'A', 0x30A, 0x301})), u8({0x1FA}));
  EXPECT_EQ(nfc(u8({0x1100, 0x1161, 0x11A8})), u8({0xAC01}));  // Hangul L V T
  EXPECT_EQ(nfc(u8({0x212B})), u8({0xC5}));                    // singleton decomposition
  EXPECT_EQ(nfc(u8({'a', 0x323, 0x307})), u8({0x1EA1, 0x307}));
  EXPECT_EQ(nfc(u8({'q', 0x307, 0x323})), u8({'q', 0x323, 0x307}));  // reordered only
  EXPECT_EQ(nfc(u8({0xE9, 0x301})), u8({0xE9, 0x301}));              // blocked
  EXPECT_EQ(nfc(u8({0x1E0B, 0x323})), u8({0x1E0D, 0x307}));
  EXPECT_EQ(nfc(u8({0xE40, 0xE01, 0xE32})), u8({0xE40, 0xE01, 0xE32}));
  // Invalid bytes pass through and separate runs.
  std::string bad = "e\xFF" + u8({0x301});
  EXPECT_EQ(nfc(bad), bad);
  EXPECT_TRUE(nfc_quick_check("hello world"));
  EXPECT_FALSE(nfc_quick_check(u8({'e', 0x301})));
}

TEST(Unicode, NfcMatchesFullNormalizationOnRandomText) {
  // nfc() renormalizes only around code points that can change; compare with normalizing
  // everything, on text dense in combining marks, Hangul jamo and precomposed letters.
  const uint32_t palette[] = {'a',     'e',     'o',    ' ',     'A',    0xE9,   0xC5,   0x212B,
                              0x301,   0x300,   0x308,  0x323,   0x327,  0x1100, 0x1161, 0x11A8,
                              0xAC00,  0xAC01,  0x3099, 0x304B,  0x1E0B, 0x0F73, 0x0F71, 0x0F72,
                              0x1D15E, 0x1D165, 0x4F60, 0x1F600, 0x0345, 0x03B1, 0x0313};
  uint32_t state = 1;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    int len = 1 + iter % 17;
    for (int k = 0; k < len; ++k) {
      state = state * 1103515245u + 12345u;
      uint32_t r = state >> 16;
      if (r % 23 == 0)
        s.push_back('\xFF');
      else
        utf8_append(&s, palette[r % (sizeof(palette) / sizeof(palette[0]))]);
    }
    ASSERT_EQ(nfc(s), nfc_reference(s)) << "iteration " << iter;
  }
}

TEST(Unicode, ByteMapIsABijection) {
  EXPECT_EQ(byte_to_cp(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(byte_to_cp('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(byte_to_cp('A'), uint32_t{'A'});
  for (int b = 0; b < 256; ++b) EXPECT_EQ(cp_to_byte(byte_to_cp(static_cast<uint8_t>(b))), b);
  EXPECT_EQ(cp_to_byte(0x4F60), -1);
}

}  // namespace
}  // namespace nibble::tok
