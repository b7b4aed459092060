// Sampling / session options shared by `nibble generate` and nibble-chat.
#pragma once

#include "app.h"
#include "nibble/nibble.h"

namespace nibble::cli {

// Declares --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n
// --frequency-penalty --presence-penalty --seed --greedy --threads --ctx --batch --kv-q8
// --context-shift --keep on `app`, bound to `s` (defaults shown in --help are s's values).
// The library checks the values' ranges when the session is created.
inline void add_session_flags(CLI::App& app, SessionOptions& s) {
  auto& c = s.sampling;
  const char* g = "Sampling and session";
  app.add_option("--temp", c.temperature, "temperature (0 = greedy)")->capture_default_str()->group(g);
  app.add_option("--top-k", c.top_k, "keep the K most likely tokens (<= 0: off)")
      ->capture_default_str()->group(g);
  app.add_option("--top-p", c.top_p, "nucleus sampling (>= 1: off)")->capture_default_str()->group(g);
  app.add_option("--min-p", c.min_p, "drop tokens below M x the top probability (<= 0: off)")
      ->capture_default_str()->group(g);
  app.add_option("--repeat-penalty", c.repeat_penalty, "repetition penalty (1: off)")
      ->capture_default_str()->group(g);
  app.add_option("--repeat-last-n", c.penalty_last_n, "tokens the penalties look back at")
      ->capture_default_str()->group(g);
  app.add_option("--frequency-penalty", c.frequency_penalty, "subtract count x F")
      ->capture_default_str()->group(g);
  app.add_option("--presence-penalty", c.presence_penalty, "subtract P once a token occurred")
      ->capture_default_str()->group(g);
  app.add_option("--seed", c.seed, "sampling seed")->capture_default_str()->group(g);
  app.add_flag_callback("--greedy", [&c] { c.temperature = 0.0f; }, "same as --temp 0")->group(g);
  app.add_option("-t,--threads", s.n_threads, "threads (0: physical cores)")
      ->capture_default_str()->group(g);
  app.add_option("-c,--ctx", s.n_ctx, "context length in tokens (0: the model's, at most 4096)")
      ->capture_default_str()->group(g);
  app.add_option("--batch", s.n_batch, "prompt tokens per forward pass")->capture_default_str()->group(g);
  app.add_flag("--kv-q8", s.kv_cache_q8_0, "KV cache in q8_0 instead of f16")->group(g);
  app.add_flag("--context-shift", s.context_shift,
               "when the context fills, drop the oldest half after the first --keep tokens "
               "instead of stopping")->group(g);
  app.add_option("--keep", s.n_keep, "tokens --context-shift never drops")->capture_default_str()->group(g);
}

}  // namespace nibble::cli
