// `nibble bench` for speculative decoding (docs/tools.md), kept apart from bench.cpp:
//   --verify LIST   cost of one verification pass (1 + N tokens, every row's logits) against
//                   one decode step, at the KV depth of --spec-depth, per model and thread count;
//   --lookup N / --draft MODEL   greedy generation of --spec-gen tokens from --spec-prompt
//                   with and without speculation, interleaved: tokens/s, tokens and accepted
//                   drafts per forward pass, speedup.
#pragma once

#include <string>
#include <vector>

#include "app.h"

namespace nibble::cli {

struct SpecBenchOptions {
  std::vector<int> verify;  // draft lengths whose verification pass is timed
  int lookup = 0;           // prompt-lookup n-gram for the generation test
  std::string draft;        // draft model for the generation test
  int n_draft = 7;
  int depth = 64;   // tokens in the KV cache before the timed passes (--verify)
  int gen = 256;    // tokens generated per run (--lookup / --draft)
  std::string prompt = "Once upon a time";
  bool requested() const { return !verify.empty() || lookup > 0 || !draft.empty(); }
};

// Declares the options above on `app` (group "Speculative decoding").
void add_spec_bench_options(CLI::App& app, SpecBenchOptions& o);

// Runs the speculative benches for each model and thread count, `reps` timed repetitions
// after a warm-up; a markdown table (or JSON with `json`) on stdout. Returns the exit code.
int run_spec_bench(const SpecBenchOptions& o, const std::vector<std::string>& models,
                   const std::vector<int>& threads, int reps, const std::string& isa, bool json);

}  // namespace nibble::cli
