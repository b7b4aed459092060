// Sampling / session flags shared by `nibble generate` and nibble-chat.
#pragma once

#include "args.h"
#include "nibble/nibble.h"

namespace nibble::cli {

// Reads --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --frequency-penalty
// --presence-penalty --seed --threads --ctx --batch into `s` (errors recorded in args).
inline void read_session_flags(Args& args, SessionOptions& s) {
  auto& c = s.sampling;
  if (auto v = args.number({"--temp"})) c.temperature = static_cast<float>(*v);
  if (auto v = args.integer({"--top-k"})) c.top_k = static_cast<int>(*v);
  if (auto v = args.number({"--top-p"})) c.top_p = static_cast<float>(*v);
  if (auto v = args.number({"--min-p"})) c.min_p = static_cast<float>(*v);
  if (auto v = args.number({"--repeat-penalty"})) c.repeat_penalty = static_cast<float>(*v);
  if (auto v = args.integer({"--repeat-last-n"})) c.penalty_last_n = static_cast<int>(*v);
  if (auto v = args.number({"--frequency-penalty"})) c.frequency_penalty = static_cast<float>(*v);
  if (auto v = args.number({"--presence-penalty"})) c.presence_penalty = static_cast<float>(*v);
  if (auto v = args.integer({"--seed"})) c.seed = static_cast<uint64_t>(*v);
  if (args.flag({"--greedy"})) c.temperature = 0.0f;
  if (auto v = args.integer({"--threads", "-t"})) s.n_threads = static_cast<int>(*v);
  if (auto v = args.integer({"--ctx", "-c"})) s.n_ctx = static_cast<int>(*v);
  if (auto v = args.integer({"--batch"})) s.n_batch = static_cast<int>(*v);
  if (args.flag({"--kv-q8"})) s.kv_cache_q8_0 = true;
  if (args.flag({"--context-shift"})) s.context_shift = true;
  if (auto v = args.integer({"--keep"})) s.n_keep = static_cast<int>(*v);
}

inline constexpr const char* kSessionFlagsHelp =
    "  --temp T (0.8; 0 = greedy)  --top-k K (40)  --top-p P (0.95)  --min-p M (0.05)\n"
    "  --repeat-penalty R (1)  --repeat-last-n N (64)  --frequency-penalty F  --presence-penalty "
    "P\n"
    "  --seed S (0)  --greedy  --threads N  --ctx N  --batch N (64)  --isa NAME\n"
    "  --kv-q8 (KV cache in q8_0 instead of f16)  --context-shift [--keep N] (when the\n"
    "  context fills, drop the oldest half after the first N tokens instead of stopping)\n";

}  // namespace nibble::cli
