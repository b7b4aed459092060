#include "grammar/machine.h"

#include <algorithm>
#include <cstring>

namespace nibble::grammar {

Machine::Machine(std::shared_ptr<const Rules> rules) : rules_(std::move(rules)) { reset_caches(); }

void Machine::reset_caches() {
  ++epoch_;
  nodes_.clear();
  node_ids_.clear();
  expanded_.clear();
  states_.clear();
  state_ids_.clear();
  rows_.clear();
  dist_.clear();
  plain_loop_.clear();
  nodes_.push_back({UINT32_MAX, -1, 0});  // node 0: the empty stack
}

int32_t Machine::node(uint32_t pos, int32_t parent) {
  const uint64_t key = (uint64_t{pos} << 32) | static_cast<uint32_t>(parent);
  auto [it, fresh] = node_ids_.emplace(key, static_cast<int32_t>(nodes_.size()));
  if (fresh) {
    const uint64_t d = uint64_t{rules_->rest_min[pos]} + nodes_[parent].dist;
    nodes_.push_back({pos, parent, static_cast<uint32_t>(std::min<uint64_t>(d, kInfiniteLength))});
  }
  return it->second;
}

int32_t Machine::advance(int32_t n) {
  const Node x = nodes_[n];
  if (rules_->elems[x.pos + 1].kind == ElemKind::end) return x.parent;
  return node(x.pos + 1, x.parent);
}

bool Machine::over_step_work(size_t more) {
  step_work_ += more;
  if (step_work_ <= kMaxExpansion) return false;
  error_ = "the grammar is too ambiguous: one step expands to more than " +
           std::to_string(kMaxExpansion) + " parse stacks";
  return true;
}

bool Machine::expand(int32_t n, std::vector<int32_t>* out) {
  auto cached = expanded_.find(n);
  if (cached != expanded_.end()) {
    if (over_step_work(cached->second.size())) return false;
    out->insert(out->end(), cached->second.begin(), cached->second.end());
    return true;
  }
  std::vector<int32_t> result;
  work_.assign(1, n);
  const auto& elems = rules_->elems;
  while (!work_.empty()) {
    const int32_t x = work_.back();
    work_.pop_back();
    if (over_step_work(1)) return false;
    if (x == 0 || elems[nodes_[x].pos].kind == ElemKind::chars) {
      result.push_back(x);
      continue;
    }
    const Node nd = nodes_[x];
    const int32_t cont = advance(x);
    for (uint32_t alt : rules_->alts[elems[nd.pos].a])
      work_.push_back(elems[alt].kind == ElemKind::end ? cont : node(alt, cont));
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  out->insert(out->end(), result.begin(), result.end());
  expanded_.emplace(n, std::move(result));
  return true;
}

int32_t Machine::intern(std::vector<int32_t> stacks, uint32_t cp, uint8_t left, uint8_t len) {
  std::string key(reinterpret_cast<const char*>(stacks.data()), stacks.size() * sizeof(int32_t));
  key.push_back(static_cast<char>(left));
  key.push_back(static_cast<char>(len));
  key.append(reinterpret_cast<const char*>(&cp), sizeof cp);
  auto [it, fresh] = state_ids_.emplace(std::move(key), static_cast<int32_t>(states_.size()));
  if (!fresh) return it->second;
  State s;
  s.cp = cp;
  s.left = left;
  s.len = len;
  s.accepting = left == 0 && !stacks.empty() && stacks[0] == 0;
  s.complete = s.accepting && stacks.size() == 1;
  uint32_t dist = kInfiniteLength;
  for (int32_t x : stacks) {
    if (left == 0) {
      dist = std::min(dist, nodes_[x].dist);
    } else {  // the rest of the character, then what follows it
      const Node& nd = nodes_[x];
      const uint64_t d = uint64_t{left} + rules_->rest_min[nd.pos + 1] + nodes_[nd.parent].dist;
      dist = std::min<uint64_t>(dist, d);
    }
  }
  s.stacks = std::move(stacks);
  states_.push_back(std::move(s));
  dist_.push_back(dist);
  plain_loop_.push_back(-1);
  rows_.resize(rows_.size() + 256, kUnknown);
  return it->second;
}

int32_t Machine::initial() {
  step_work_ = 0;
  std::vector<int32_t> stacks;
  for (uint32_t alt : rules_->alts[rules_->root]) {
    const int32_t n = rules_->elems[alt].kind == ElemKind::end ? 0 : node(alt, 0);
    if (!expand(n, &stacks)) return kDead;
  }
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  if (stacks.size() > kMaxStacks) {
    error_ = "the grammar is too ambiguous: more than " + std::to_string(kMaxStacks) +
             " parse stacks at the start";
    return kDead;
  }
  return intern(std::move(stacks), 0, 0, 0);
}

int32_t Machine::step_slow(int32_t state, uint8_t b) {
  step_work_ = 0;
  const std::vector<int32_t> stacks = states_[state].stacks;
  uint32_t cp = states_[state].cp;
  uint8_t left = states_[state].left, len = states_[state].len;
  bool ok = true;
  if (left == 0) {  // a new character
    if (b < 0x80) {
      cp = b, len = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      cp = b & 0x1F, left = 1, len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      cp = b & 0x0F, left = 2, len = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      cp = b & 0x07, left = 3, len = 4;
    } else {
      ok = false;
    }
  } else if ((b & 0xC0) == 0x80) {
    cp = (cp << 6) | (b & 0x3F);
    --left;
  } else {
    ok = false;
  }
  std::vector<int32_t> next;
  if (ok && left == 0) {
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
    for (size_t i = 0; ok && i < stacks.size(); ++i) {
      const int32_t x = stacks[i];
      if (x == 0 || !rules_->matches(rules_->elems[nodes_[x].pos], cp)) continue;
      if (!expand(advance(x), &next)) ok = false;
    }
    cp = 0, len = 0;
  } else if (ok) {  // partial: keep the stacks whose class meets the possible code points
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t lo = std::max(cp << (6 * left), kMin[len]);
    uint32_t hi = std::min((cp << (6 * left)) | ((1u << (6 * left)) - 1), kMaxCodePoint);
    // Surrogates are not characters: a prefix that can only lead to one is dead (ED A0..BF).
    if (lo >= 0xD800 && hi <= 0xDFFF) hi = 0, lo = 1;
    for (int32_t x : stacks)
      if (x != 0 && lo <= hi && rules_->matches_any(rules_->elems[nodes_[x].pos], lo, hi))
        next.push_back(x);
  }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  if (next.size() > kMaxStacks) {
    error_ = "the grammar is too ambiguous: more than " + std::to_string(kMaxStacks) +
             " parse stacks at once";
    ok = false;
  }
  const int32_t id = ok && !next.empty() ? intern(std::move(next), cp, left, len) : kDead;
  rows_[static_cast<size_t>(state) * 256 + b] = id;
  return id;
}

bool Machine::loops_on_plain(int32_t s) {
  if (plain_loop_[s] < 0) {
    bool loops = true;
    for (int b = 0x20; b < 0x7F && loops; ++b)
      if (b != '"' && b != '\\') loops = step(s, static_cast<uint8_t>(b)) == s;
    plain_loop_[s] = loops ? 1 : 0;
  }
  return plain_loop_[s] == 1;
}

int32_t Machine::compact(int32_t keep) {
  if (states_.size() < kMaxStates && nodes_.size() < kMaxNodes) return keep;
  // The kept state's stacks as position lists (bottom first), rebuilt after the reset.
  const State& k = states_[keep];
  std::vector<std::vector<uint32_t>> lists;
  for (int32_t x : k.stacks) {
    std::vector<uint32_t> l;
    for (int32_t n = x; n != 0; n = nodes_[n].parent) l.push_back(nodes_[n].pos);
    std::reverse(l.begin(), l.end());
    lists.push_back(std::move(l));
  }
  const uint32_t cp = k.cp;
  const uint8_t left = k.left, len = k.len;
  reset_caches();
  std::vector<int32_t> stacks;
  for (const auto& l : lists) {
    int32_t n = 0;
    for (uint32_t pos : l) n = node(pos, n);
    stacks.push_back(n);
  }
  std::sort(stacks.begin(), stacks.end());
  return intern(std::move(stacks), cp, left, len);
}

}  // namespace nibble::grammar
