// Per-session RoPE parameters (see rope.h).
#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

namespace nibble::model {

std::vector<float> yarn_extrapolation(int64_t n_rot, float base, int64_t ctx_orig, float beta_fast,
                                      float beta_slow) {
  // The pair index whose wavelength fits `rotations` full turns into the original context:
  // n_rot * ln(ctx_orig / (rotations * 2 pi)) / (2 ln base). Pairs below the beta_fast bound
  // turn often enough to keep their frequency; pairs above the beta_slow bound are
  // interpolated; the weight ramps linearly in between (bounds floored / ceiled to whole pairs
  // and clamped to [0, n_rot - 1], as in the YaRN reference implementation).
  auto corr = [&](float rotations) {
    return static_cast<float>(n_rot) *
           std::log(static_cast<float>(ctx_orig) / (rotations * 2.0f * std::numbers::pi_v<float>)) /
           (2.0f * std::log(base));
  };
  const float lo = std::max(0.0f, std::floor(corr(beta_fast)));
  const float hi = std::min(static_cast<float>(n_rot - 1), std::ceil(corr(beta_slow)));
  std::vector<float> r(static_cast<size_t>(n_rot / 2));
  for (size_t i = 0; i < r.size(); ++i) {
    const float y = (static_cast<float>(i) - lo) / std::max(0.001f, hi - lo);
    r[i] = 1.0f - std::clamp(y, 0.0f, 1.0f);
  }
  return r;
}

SessionRope session_rope(const LoadedModel& m, int64_t n_ctx) {
  const Config& c = m.config;
  SessionRope s;
  RopeParams& g = s.global;
  g.base = c.rope_base;
  g.mscale = c.rope_attn_factor;
  switch (c.rope_scaling) {
    case RopeScaling::none:
    case RopeScaling::linear:
      g.freq_scale = c.rope_freq_scale;
      g.factors = m.rope_freqs;
      s.description = c.rope_scaling == RopeScaling::none
                          ? "none"
                          : fmt::format("linear, factor {:.4g}", 1.0f / c.rope_freq_scale);
      if (!m.rope_freqs.empty()) s.description += ", rope_freqs frequency factors";
      break;
    case RopeScaling::yarn: {
      const auto r = yarn_extrapolation(c.n_rot, c.rope_base, c.rope_ctx_orig, c.yarn_beta_fast,
                                        c.yarn_beta_slow);
      g.factors.resize(r.size());
      for (size_t i = 0; i < r.size(); ++i)
        g.factors[i] = 1.0f / (c.rope_freq_scale * (1.0f - r[i]) + r[i]);
      s.description = fmt::format("YaRN, factor {:.4g}, original context {}, beta {:g}/{:g}",
                                  1.0f / c.rope_freq_scale, c.rope_ctx_orig, c.yarn_beta_fast,
                                  c.yarn_beta_slow);
      break;
    }
    case RopeScaling::longrope:
      // As the reference engines decide it: the long factors only when the session's context
      // exceeds the original one (n_ctx == original context keeps the short ones).
      s.long_factors = n_ctx > c.rope_ctx_orig;
      g.factors = s.long_factors ? m.rope_factors_long : m.rope_factors_short;
      s.description = fmt::format("LongRoPE {} factors (n_ctx {} {} original context {})",
                                  s.long_factors ? "long" : "short", n_ctx,
                                  s.long_factors ? ">" : "<=", c.rope_ctx_orig);
      break;
  }
  if (g.mscale != 1.0f) s.description += fmt::format(", attention factor {:.6g}", g.mscale);
  s.local = g;
  if (c.arch->local_rope_plain) {
    // Sliding-window layers of gemma3: their own base, never scaled.
    s.local = RopeParams{};
    s.local.base = c.rope_base_local;
    s.local.freq_scale = c.rope_freq_scale_local;
  }
  return s;
}

}  // namespace nibble::model
