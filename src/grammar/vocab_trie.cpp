#include "grammar/vocab_trie.h"

#include <algorithm>
#include <numeric>

#include "nibble/tokenizer.h"

namespace nibble::grammar {

std::shared_ptr<const VocabTrie> VocabTrie::build(const std::vector<std::string>& pieces,
                                                  const std::vector<uint8_t>& usable_in,
                                                  std::vector<int32_t> eog,
                                                  bool strip_first_space) {
  auto t = std::make_shared<VocabTrie>();
  const auto n = static_cast<int32_t>(pieces.size());
  t->n_vocab = n;
  t->strip_first_space = strip_first_space;
  t->usable.assign(n, 0);
  t->is_eog.assign(n, 0);
  t->piece_off.reserve(n + 1);
  for (int32_t i = 0; i < n; ++i) {
    t->piece_off.push_back(static_cast<uint32_t>(t->piece_bytes.size()));
    t->piece_bytes += pieces[i];
    // Pieces longer than the depth type can hold are left out (no real vocabulary has them).
    t->usable[i] = i < static_cast<int32_t>(usable_in.size()) && usable_in[i] &&
                   !pieces[i].empty() && pieces[i].size() < 65535;
  }
  t->piece_off.push_back(static_cast<uint32_t>(t->piece_bytes.size()));
  for (int32_t e : eog)
    if (e >= 0 && e < n) t->is_eog[e] = 1, t->usable[e] = 0;
  t->eog = std::move(eog);

  std::vector<int32_t> order;
  for (int32_t i = 0; i < n; ++i)
    if (t->usable[i]) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return pieces[a] < pieces[b] || (pieces[a] == pieces[b] && a < b);
  });
  // Walk the sorted pieces keeping the path of open nodes; a node closes (its skip is known)
  // when a later piece leaves its prefix.
  std::vector<uint32_t> path;  // node index per depth - 1
  std::string_view prev;
  for (int32_t id : order) {
    std::string_view p = pieces[id];
    size_t common = 0;
    while (common < prev.size() && common < p.size() && common < path.size() &&
           prev[common] == p[common])
      ++common;
    while (path.size() > common) {
      t->skip[path.back()] = static_cast<uint32_t>(t->byte.size());
      path.pop_back();
    }
    for (size_t d = common; d < p.size(); ++d) {
      path.push_back(static_cast<uint32_t>(t->byte.size()));
      t->byte.push_back(static_cast<uint8_t>(p[d]));
      t->depth.push_back(static_cast<uint16_t>(d + 1));
      t->skip.push_back(0);
      t->tok_begin.push_back(static_cast<uint32_t>(t->toks.size()));
    }
    t->toks.push_back(id);  // belongs to the last node of the path (same piece: same node)
    t->max_depth = std::max(t->max_depth, static_cast<int>(p.size()));
    prev = p;
  }
  while (!path.empty()) {
    t->skip[path.back()] = static_cast<uint32_t>(t->byte.size());
    path.pop_back();
  }
  t->tok_begin.push_back(static_cast<uint32_t>(t->toks.size()));
  // Subtree i is [i, skip[i]): plain when it holds no byte that is not (prefix counts).
  const size_t nodes = t->byte.size();
  std::vector<uint32_t> impure(nodes + 1, 0);
  for (size_t i = 0; i < nodes; ++i) impure[i + 1] = impure[i] + (is_plain(t->byte[i]) ? 0 : 1);
  t->plain_subtree.resize(nodes);
  for (size_t i = 0; i < nodes; ++i) t->plain_subtree[i] = impure[t->skip[i]] == impure[i];
  return t;
}

std::shared_ptr<const VocabTrie> VocabTrie::from_tokenizer(const Tokenizer& tok, int32_t n,
                                                           bool strip_first_space) {
  std::vector<std::string> pieces(static_cast<size_t>(n));
  std::vector<uint8_t> usable(static_cast<size_t>(n), 0);
  std::vector<int32_t> eog;
  for (int32_t t = 0; t < n && t < tok.n_vocab(); ++t) {
    if (tok.is_end_of_generation(t)) {
      eog.push_back(t);
      continue;
    }
    if (tok.is_special(t)) continue;
    pieces[t] = tok.token_to_piece(t, false);
    usable[t] = 1;
  }
  return build(pieces, usable, std::move(eog), strip_first_space);
}

}  // namespace nibble::grammar
