#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace nibble::sampling {

Status validate(const SamplerConfig& c, int n_vocab) {
  auto bad = [](const std::string& m) { return Error(ErrorCode::invalid_argument, m); };
  if (!std::isfinite(c.temperature)) return bad("temperature must be finite");
  if (!(c.top_p > 0.0f) || !std::isfinite(c.top_p)) return bad("top_p must be in (0, 1]");
  if (!(c.min_p >= 0.0f && c.min_p <= 1.0f)) return bad("min_p must be in [0, 1]");
  if (!(c.repeat_penalty > 0.0f) || !std::isfinite(c.repeat_penalty))
    return bad("repeat_penalty must be > 0");
  if (!std::isfinite(c.frequency_penalty) || !std::isfinite(c.presence_penalty))
    return bad("frequency/presence penalties must be finite");
  if (c.penalty_last_n < 0) return bad("penalty_last_n must be >= 0");
  for (auto& [id, b] : c.logit_bias) {
    if (id < 0 || id >= n_vocab)
      return bad("logit_bias token " + std::to_string(id) + " outside the vocabulary");
    if (std::isnan(b)) return bad("logit_bias value is NaN");
  }
  return ok_status();
}

Sampler::Sampler(const SamplerConfig& config, int n_vocab)
    : cfg_(config), n_vocab_(n_vocab), state_(config.seed), cand_(n_vocab), counts_(n_vocab) {}

double Sampler::uniform() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

int Sampler::prepare(std::span<const float> logits, std::span<const Token> history) {
  const int n = std::min<int>(n_vocab_, static_cast<int>(logits.size()));
  for (int i = 0; i < n; ++i) cand_[i] = {i, logits[i], 0.0f};
  for (auto& [id, b] : cfg_.logit_bias)
    if (id >= 0 && id < n) cand_[id].logit += b;

  // Penalties over the last penalty_last_n tokens.
  const bool penalize = cfg_.repeat_penalty != 1.0f || cfg_.frequency_penalty != 0.0f ||
                        cfg_.presence_penalty != 0.0f;
  if (penalize && cfg_.penalty_last_n > 0 && !history.empty()) {
    const size_t start = history.size() > static_cast<size_t>(cfg_.penalty_last_n)
                             ? history.size() - cfg_.penalty_last_n : 0;
    for (size_t i = start; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < n) ++counts_[history[i]];
    for (size_t i = start; i < history.size(); ++i) {
      const Token t = history[i];
      if (t < 0 || t >= n || counts_[t] == 0) continue;
      float& l = cand_[t].logit;
      l = l > 0 ? l / cfg_.repeat_penalty : l * cfg_.repeat_penalty;
      l -= counts_[t] * cfg_.frequency_penalty + cfg_.presence_penalty;
      counts_[t] = 0;  // applied once per distinct token; also resets the counter
    }
  }
  return n;
}

namespace {
bool better(const Sampler::Cand& a, const Sampler::Cand& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
}  // namespace

Token Sampler::sample(std::span<const float> logits, std::span<const Token> history) {
  const int n = prepare(logits, history);
  if (cfg_.temperature <= 0.0f) return std::min_element(cand_.begin(), cand_.begin() + n, better)->id;
  return draw(n, false);
}

Result<int> Sampler::filter_candidates(int n, TokenFilter& filter, bool* sorted) {
  // Cheap path: the best few candidates, checked one by one, usually hold enough allowed ones
  // (greedy needs one, top-k needs k): the result is the same as masking everything first.
  const int want = cfg_.temperature <= 0.0f ? 1 : cfg_.top_k;
  if (want > 0 && want <= n) {
    const int m = std::min(n, std::max(4 * want, 64));
    std::partial_sort(cand_.begin(), cand_.begin() + m, cand_.begin() + n, better);
    picked_.clear();
    for (int i = 0; i < m && static_cast<int>(picked_.size()) < want; ++i)
      if (std::isfinite(cand_[i].logit) && filter.allows(cand_[i].id)) picked_.push_back(cand_[i]);
    if (static_cast<int>(picked_.size()) == want) {
      std::copy(picked_.begin(), picked_.end(), cand_.begin());
      *sorted = true;
      return want;
    }
  }
  // Otherwise the whole mask.
  NIBBLE_ASSIGN_OR_RETURN(size_t count, filter.fill(&allowed_));
  (void)count;
  int kept = 0;
  for (int i = 0; i < n; ++i)
    if (allowed_[cand_[i].id]) cand_[kept++] = cand_[i];
  *sorted = false;
  return kept;
}

Result<Token> Sampler::sample(std::span<const float> logits, std::span<const Token> history,
                              TokenFilter& filter) {
  const int n = prepare(logits, history);
  bool sorted = false;
  NIBBLE_ASSIGN_OR_RETURN(int size, filter_candidates(n, filter, &sorted));
  if (size == 0) return Token{-1};
  if (cfg_.temperature <= 0.0f)
    return sorted ? cand_[0].id : std::min_element(cand_.begin(), cand_.begin() + size, better)->id;
  return draw(size, sorted);
}

Token Sampler::draw(int size, bool top_k_done) {
  size = keep(size, top_k_done);
  if (size < 0) return cand_[0].id;
  return draw_from(std::span<const Cand>(cand_.data(), static_cast<size_t>(size)));
}

Token Sampler::draw_from(std::span<const Cand> dist) {
  double total = 0;
  for (const Cand& c : dist) total += c.p;
  double r = uniform() * total;
  for (const Cand& c : dist) {
    r -= c.p;
    if (r < 0) return c.id;
  }
  return dist.back().id;
}

int Sampler::keep(int size, bool top_k_done) {
  if (!top_k_done && cfg_.top_k > 0 && cfg_.top_k < size) {
    std::partial_sort(cand_.begin(), cand_.begin() + cfg_.top_k, cand_.begin() + size, better);
    size = cfg_.top_k;
    top_k_done = true;
  }
  // Softmax with temperature: e = exp((logit - max) / T), p = e / sum(e) over the candidates.
  const Cand best =
      top_k_done ? cand_[0] : *std::min_element(cand_.begin(), cand_.begin() + size, better);
  if (!std::isfinite(best.logit)) {  // everything banned: deterministic fallback
    cand_[0] = best;
    return -1;
  }
  const float mx = best.logit;
  double sum = 0;
  for (int i = 0; i < size; ++i) {
    cand_[i].p = static_cast<float>(std::exp((cand_[i].logit - mx) / cfg_.temperature));
    sum += cand_[i].p;
  }
  // top-p and min-p keep a prefix of the candidates in descending order; only that prefix is
  // sorted (no full sort of a 150k vocabulary per token). min-p's floor, p_max * min_p, is
  // e >= min_p (e_max = 1): the others go first. top-p's prefix grows by partial sorts.
  bool top_p_done = cfg_.top_p >= 1.0f;
  if (!top_k_done) {
    if (cfg_.min_p > 0.0f) {
      const float floor = cfg_.min_p;
      size = static_cast<int>(std::partition(cand_.begin(), cand_.begin() + size,
                                             [&](const Cand& c) { return c.p >= floor; }) -
                              cand_.begin());
      std::sort(cand_.begin(), cand_.begin() + size, better);
    } else if (!top_p_done) {  // the smallest sorted prefix holding top_p of the mass
      const double want = cfg_.top_p * sum;
      for (int m = std::min(size, 64);; m = std::min(size, m * 4)) {
        std::partial_sort(cand_.begin(), cand_.begin() + m, cand_.begin() + size, better);
        double cum = 0;
        int i = 0;
        while (i < m && cum < want) cum += cand_[i++].p;
        if (cum >= want || m == size) {
          size = std::max(i, 1);
          break;
        }
      }
      top_p_done = true;
    }
    // else: every candidate stays; the draw needs no order.
  }
  for (int i = 0; i < size; ++i) cand_[i].p = static_cast<float>(cand_[i].p / sum);
  if (!top_p_done) {
    double cum = 0;
    int kept = size;
    for (int i = 0; i < size; ++i) {
      cum += cand_[i].p;
      if (cum >= cfg_.top_p) {
        kept = i + 1;
        break;
      }
    }
    size = kept;
  }
  if (cfg_.min_p > 0.0f) {
    const float floor = cand_[0].p * cfg_.min_p;
    int kept = 1;
    while (kept < size && cand_[kept].p >= floor) ++kept;
    size = kept;
  }
  return size;
}

std::span<const Sampler::Cand> Sampler::normalised(int size) {
  if (size <= 0) {  // greedy (argmax moved to the front) or everything banned
    cand_[0].p = 1.0f;
    return {cand_.data(), 1};
  }
  double total = 0;
  for (int i = 0; i < size; ++i) total += cand_[i].p;
  for (int i = 0; i < size; ++i) cand_[i].p = static_cast<float>(cand_[i].p / total);
  return {cand_.data(), static_cast<size_t>(size)};
}

std::span<const Sampler::Cand> Sampler::distribution(std::span<const float> logits,
                                                     std::span<const Token> history) {
  const int n = prepare(logits, history);
  if (cfg_.temperature <= 0.0f) {
    std::iter_swap(cand_.begin(), std::min_element(cand_.begin(), cand_.begin() + n, better));
    return normalised(0);
  }
  return normalised(keep(n, false));
}

Result<std::span<const Sampler::Cand>> Sampler::distribution(std::span<const float> logits,
                                                             std::span<const Token> history,
                                                             TokenFilter& filter) {
  const int n = prepare(logits, history);
  bool sorted = false;
  NIBBLE_ASSIGN_OR_RETURN(int size, filter_candidates(n, filter, &sorted));
  if (size == 0) return std::span<const Cand>();
  if (cfg_.temperature <= 0.0f) {
    if (!sorted)
      std::iter_swap(cand_.begin(), std::min_element(cand_.begin(), cand_.begin() + size, better));
    return normalised(0);
  }
  return normalised(keep(size, sorted));
}

}  // namespace nibble::sampling
