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

bool parse_tokens(const std::string& s, std::vector<Token>* out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    if (part.empty() || part.size() > 10 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return false;
    long long v = std::stoll(part);
    if (v > 0x7fffffff) return false;
    out->push_back(static_cast<Token>(v));
    i = j + 1;
  }
  return !out->empty();
}

int run_logits(Args& args) {
  if (args.flag({"-h", "--help"})) {
    fmt::print(
        "usage: nibble logits -m FILE.gguf --tokens ID,ID,... [--top K] [--threads N] "
        "[--batch B] [--ctx N] [--kv-q8]\n"
        "  --ctx N   context size of the session (default: the number of tokens); it can change\n"
        "            the RoPE frequencies (Phi-3 LongRoPE uses its long factors above the\n"
        "            original context)\n"
        "  --kv-q8   q8_0 KV cache instead of f16\n");
    return 0;
  }
  auto path = args.value({"-m", "--model"});
  auto tokens_s = args.value({"--tokens"});
  long long top = args.integer({"--top"}).value_or(8);
  long long threads = args.integer({"--threads", "-t"}).value_or(0);
  long long batch = args.integer({"--batch", "-b"}).value_or(64);
  long long n_ctx = args.integer({"--ctx", "-c"}).value_or(0);
  const bool kv_q8 = args.flag({"--kv-q8"});
  if (!path) args.error("-m FILE.gguf is required");
  std::vector<Token> tokens;
  if (!tokens_s)
    args.error("--tokens ID,ID,... is required");
  else if (!parse_tokens(*tokens_s, &tokens))
    args.error("--tokens: expected ID,ID,... (non-negative integers)");
  if (top < 1 || top > 1000000) args.error("--top must be >= 1");
  if (threads < 0 || threads > 512) args.error("--threads must be in [0, 512]");
  if (batch < 1 || batch > 4096) args.error("--batch must be in [1, 4096]");
  if (n_ctx < 0 || n_ctx > (1 << 20)) args.error("--ctx must be in [0, 1048576]");
  if (!args.finish()) return 2;

  model::LoadOptions lo;
  lo.load_tokenizer = false;
  auto m = model::load_model(*path, lo);
  if (!m.ok()) {
    fmt::print(stderr, "nibble logits: {}\n", m.error().to_string());
    return 1;
  }
  graph::ContextOptions co;
  co.n_ctx =
      n_ctx > 0 ? static_cast<int>(n_ctx) : static_cast<int>(std::max<size_t>(tokens.size(), 1));
  co.kv_q8_0 = kv_q8;
  co.n_threads = static_cast<int>(threads);
  co.n_batch = static_cast<int>(batch);
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
  const int k = static_cast<int>(std::min<long long>(top, n_vocab));
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

}  // namespace

NIBBLE_COMMAND(logits, "evaluate token ids and print the top-K logits per position (JSON)",
               run_logits);

}  // namespace nibble::cli
