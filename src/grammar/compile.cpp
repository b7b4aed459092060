// RawGrammar -> Rules: checks (undefined rules, empty language, left recursion), drops the
// alternatives that match no finite string, computes minimum lengths and flattens.
#include <algorithm>

#include "grammar/rules.h"

namespace nibble::grammar {
namespace {

uint32_t sat_add(uint32_t a, uint32_t b) { return std::min<uint64_t>(uint64_t{a} + b, kInfiniteLength); }

uint32_t utf8_len(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// The fewest UTF-8 bytes of any code point in the ranges (kInfiniteLength when none).
uint32_t min_char_len(const std::vector<Range>& r) {
  uint32_t best = kInfiniteLength;
  for (const Range& x : r) {
    if (x.lo >= 0xD800 && x.hi <= 0xDFFF) continue;  // surrogates only: nothing encodable
    best = std::min(best, utf8_len(x.lo));
  }
  return best;
}

Error err(const RawGrammar& g, size_t at, const std::string& what) {
  return Error(ErrorCode::invalid_argument, location(g.source, at) + ": " + what);
}

// Human name of a rule in messages: generated rules name the construct they came from.
std::string describe(const RawGrammar& g, uint32_t r) {
  const RawRule& x = g.rules[r];
  if (x.generated) return "the group/repetition at " + location(g.source, x.at) + " (in '" +
                          x.name.substr(0, x.name.rfind('-')) + "')";
  return "rule '" + x.name + "'";
}

// Minimum length of every rule by fixpoint iteration (Bellman-Ford style; at most one pass per
// rule since lengths only fall).
std::vector<uint32_t> min_lengths(const RawGrammar& g) {
  std::vector<uint32_t> len(g.rules.size(), kInfiniteLength);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < g.rules.size(); ++r) {
      for (const RawAlt& alt : g.rules[r].alts) {
        uint32_t l = 0;
        for (const RawElem& e : alt)
          l = sat_add(l, e.kind == ElemKind::ref ? len[e.rule] : min_char_len(e.ranges));
        if (l < len[r]) {
          len[r] = l;
          changed = true;
        }
      }
    }
  }
  return len;
}

uint32_t elem_len(const RawElem& e, const std::vector<uint32_t>& len) {
  return e.kind == ElemKind::ref ? len[e.rule] : min_char_len(e.ranges);
}

// Left recursion: an edge r -> s when s can be the first thing r matches (after elements that
// can match nothing). A cycle reachable from the root would make expansion loop.
Status check_left_recursion(const RawGrammar& g, uint32_t root, const std::vector<uint32_t>& len) {
  const size_t n = g.rules.size();
  std::vector<std::vector<uint32_t>> edges(n);
  for (size_t r = 0; r < n; ++r)
    for (const RawAlt& alt : g.rules[r].alts)
      for (const RawElem& e : alt) {
        if (e.kind == ElemKind::ref) edges[r].push_back(e.rule);
        if (elem_len(e, len) != 0) break;
      }
  // Iterative DFS with colours; the grey path names the cycle.
  std::vector<uint8_t> colour(n, 0);
  std::vector<std::pair<uint32_t, size_t>> path;
  std::vector<uint8_t> reach(n, 0);
  for (uint32_t start = 0; start < n; ++start) {
    if (colour[start]) continue;
    path.push_back({start, 0});
    colour[start] = 1;
    while (!path.empty()) {
      auto& [r, i] = path.back();
      if (i == edges[r].size()) {
        colour[r] = 2;
        path.pop_back();
        continue;
      }
      const uint32_t s = edges[r][i++];
      if (colour[s] == 1) {
        std::string cycle;
        bool on = false;
        for (auto& [p, unused] : path) {
          if (p == s) on = true;
          if (on) cycle += g.rules[p].name + " -> ";
        }
        cycle += g.rules[s].name;
        return err(g, g.rules[s].at,
                   describe(g, s) + " is left-recursive (" + cycle +
                       "); rewrite it with repetition, e.g. x ::= y (\"+\" y)*");
      }
      if (colour[s] == 0) {
        colour[s] = 1;
        path.push_back({s, 0});
      }
    }
  }
  (void)root;
  (void)reach;
  return ok_status();
}

}  // namespace

bool Rules::matches(const Elem& e, uint32_t cp) const {
  for (uint32_t i = e.a; i < e.b; ++i) {
    if (cp < ranges[i].lo) return false;
    if (cp <= ranges[i].hi) return true;
  }
  return false;
}

bool Rules::matches_any(const Elem& e, uint32_t lo, uint32_t hi) const {
  for (uint32_t i = e.a; i < e.b; ++i)
    if (ranges[i].lo <= hi && lo <= ranges[i].hi) return true;
  return false;
}

Result<std::shared_ptr<const Rules>> compile(const RawGrammar& raw_in, std::string_view root) {
  RawGrammar g = raw_in;
  for (const RawRule& r : g.rules)
    if (!r.defined) return err(g, r.at, "undefined rule '" + r.name + "'");
  uint32_t root_id = 0;
  auto it = std::find_if(g.rules.begin(), g.rules.end(),
                         [&](const RawRule& r) { return r.name == root; });
  if (it == g.rules.end())
    return Error(ErrorCode::invalid_argument, "grammar: no rule named '" + std::string(root) +
                                                  "' (the root rule)");
  root_id = static_cast<uint32_t>(it - g.rules.begin());

  auto len = min_lengths(g);
  if (len[root_id] >= kInfiniteLength)
    return err(g, g.rules[root_id].at,
               "the grammar matches no string at all (rule '" + std::string(root) +
                   "' never ends: every alternative needs an empty character class or "
                   "recurses without end)");
  // Drop the alternatives that cannot finish: every stack the matcher builds then can.
  for (RawRule& r : g.rules) {
    std::vector<RawAlt> keep;
    for (RawAlt& alt : r.alts) {
      uint32_t l = 0;
      for (const RawElem& e : alt) l = sat_add(l, elem_len(e, len));
      if (l < kInfiniteLength) keep.push_back(std::move(alt));
    }
    r.alts = std::move(keep);
  }
  NIBBLE_TRY(check_left_recursion(g, root_id, len));

  auto out = std::make_shared<Rules>();
  out->root = root_id;
  out->alts.resize(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r) {
    out->names.push_back(g.rules[r].name);
    for (const RawAlt& alt : g.rules[r].alts) {
      out->alts[r].push_back(static_cast<uint32_t>(out->elems.size()));
      const size_t first = out->elems.size();
      for (const RawElem& e : alt) {
        Elem x;
        x.kind = e.kind;
        if (e.kind == ElemKind::ref) {
          x.a = e.rule;
        } else {
          x.a = static_cast<uint32_t>(out->ranges.size());
          out->ranges.insert(out->ranges.end(), e.ranges.begin(), e.ranges.end());
          x.b = static_cast<uint32_t>(out->ranges.size());
        }
        out->elems.push_back(x);
        out->rest_min.push_back(elem_len(e, len));
      }
      out->elems.push_back(Elem{});
      out->rest_min.push_back(0);
      for (size_t i = out->elems.size() - 1; i-- > first;)
        out->rest_min[i] = sat_add(out->rest_min[i], out->rest_min[i + 1]);
    }
  }
  return std::shared_ptr<const Rules>(std::move(out));
}

}  // namespace nibble::grammar
