// `nibble logits -m FILE.gguf --tokens ID,ID,... [--top K] [--threads N] [--batch B]`:
// evaluates the tokens as one sequence and prints the top-K logits after every position as
// JSON: {"n_vocab": N, "positions": [[[id, logit], ...K], ...]}. Used to compare with
// reference engines token for token (no tokenizer involved).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.h"
#include "graph/context.h"
#include "model/loader.h"

namespace nibble::cli {
namespace {

struct LogitsOptions {
  std::string path;
  std::vector<Token> tokens;
  int top = 8, threads = 0, batch = 64, n_ctx = 0;
  bool kv_q8 = false;
};

int run_logits(const LogitsOptions& o) {
  const auto& tokens = o.tokens;
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(o.path, lo);
  if (!m.ok()) {
    fmt::print(stderr, "nibble logits: {}\n", m.error().to_string());
    return 1;
  }
  graph::ContextOptions co;
  co.n_ctx = o.n_ctx > 0 ? o.n_ctx : static_cast<int>(std::max<size_t>(tokens.size(), 1));
  co.kv_q8_0 = o.kv_q8;
  co.n_threads = o.threads;
  co.n_batch = o.batch;
  auto ctx = graph::create_context(*m, co);
  if (!ctx.ok()) {
    fmt::print(stderr, "nibble logits: {}\n", ctx.error().to_string());
    return 1;
  }
  if (auto st = (*ctx)->eval(tokens, true); !st.ok()) {
    fmt::print(stderr, "nibble logits: {}\n", st.error().to_string());
    return 1;
  }
  const int n_vocab = (*ctx)->n_vocab();
  const int k = std::min(o.top, n_vocab);
  std::vector<int> idx(static_cast<size_t>(n_vocab));
  // {"n_vocab": N, "positions": [[[id, logit], ...top K], ...]}, one position per line.
  std::string out = fmt::format("{{\"n_vocab\": {}, \"positions\": [", n_vocab);
  for (size_t p = 0; p < tokens.size(); ++p) {
    auto lg = (*ctx)->logits(static_cast<int>(p));
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int a, int b) { return lg[a] > lg[b] || (lg[a] == lg[b] && a < b); });
    nlohmann::json top = nlohmann::json::array();
    for (int i = 0; i < k; ++i) top.push_back({idx[i], lg[idx[i]]});
    out += (p ? ",\n  " : "\n  ") + top.dump();
  }
  out += "\n]}\n";
  fmt::print("{}", out);
  return 0;
}

Runner setup_logits(CLI::App& app) {
  auto o = std::make_shared<LogitsOptions>();
  app.add_option("-m,--model", o->path, "GGUF model file")->required()->type_name("FILE");
  app.add_option("--tokens", o->tokens, "token ids to evaluate as one sequence")
      ->required()->delimiter(',')->allow_extra_args(false)
      ->check(in_range(0, 0x7fffffff))->type_name("ID,ID,...");
  app.add_option("--top", o->top, "logits printed per position")
      ->check(in_range(1, 1000000))->capture_default_str();
  app.add_option("-t,--threads", o->threads, "threads (0: physical cores)")
      ->check(in_range(0, 512))->capture_default_str();
  app.add_option("-b,--batch", o->batch, "tokens per forward pass")
      ->check(in_range(1, 4096))->capture_default_str();
  app.add_option("-c,--ctx", o->n_ctx,
                 "context size of the session (0: the number of tokens); it can change the RoPE "
                 "frequencies (Phi-3 LongRoPE uses its long factors above the original context)")
      ->check(in_range(0, 1 << 20))->capture_default_str();
  app.add_flag("--kv-q8", o->kv_q8, "q8_0 KV cache instead of f16");
  return [o] { return run_logits(*o); };
}

}  // namespace

NIBBLE_COMMAND(logits, "evaluate token ids and print the top-K logits per position (JSON)",
               setup_logits);

}  // namespace nibble::cli
