// `nibble perplexity -m MODEL -f TEXT [--ctx N] [--stride N] [--json]`: perplexity of a model
// on a text by the definition the widely used tool (llama.cpp's llama-perplexity) uses, so
// figures compare across engines (docs/tools.md):
//   - the text (less one trailing newline, as llama.cpp's -f reads it) is tokenized once,
//     with BOS when the vocabulary asks for it;
//   - it is cut into non-overlapping windows of --ctx tokens (the tail that does not fill a
//     window is left out); each window is evaluated on an empty KV cache with its first token
//     replaced by BOS (when the vocabulary adds one);
//   - the logits of window positions ctx/2 .. ctx-2 score the tokens that follow them (the
//     second half of the window, where the model has at least ctx/2 tokens of context);
//   - perplexity = exp(mean negative log-likelihood); ± = perplexity x the standard error of
//     the mean NLL.
// --stride S evaluates windows starting every S tokens and scores the last S tokens of each.
// --save-logits FILE keeps the scored positions' log-probabilities (perplexity_kl.h);
// --kl-divergence FILE evaluates the same windows and compares with them.
#include <fmt/format.h>
#if defined(_WIN32)
#include <io.h>
#define NIBBLE_ISATTY(f) _isatty(_fileno(f))
#else
#include <unistd.h>
#define NIBBLE_ISATTY(f) isatty(fileno(f))
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.h"
#include "graph/context.h"
#include "model/loader.h"
#include "perplexity_kl.h"

namespace nibble::cli {
namespace {

struct PplOptions {
  std::string model, text, save_logits, kl_base;
  int ctx = 512, stride = 0, max_chunks = 0, batch = 512, threads = 0;
  bool ctx_given = false, json = false, kv_q8 = false;
  std::string isa;
};

struct KlStats {
  std::vector<double> kld;
  uint64_t top1_same = 0;
  double base_nll = 0;
};

int fail(const std::string& msg) {
  fmt::print(stderr, "nibble perplexity: {}\n", msg);
  return 1;
}

// Non-finite figures are written as null.
nlohmann::ordered_json num(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

int argmax(std::span<const float> v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The text file's tokens (one trailing newline dropped, as llama.cpp's -f does), each checked
// against the model's logits.
Result<std::vector<Token>> read_tokens(const std::string& path, const Tokenizer& tok, int n_vocab) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::io_error, path + ": cannot open the text file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  auto t = tok.encode(text);
  if (!t.ok()) return Error(t.error().code(), path + ": " + t.error().to_string());
  for (Token id : *t)
    if (id < 0 || id >= n_vocab)
      return Error(
          ErrorCode::invalid_argument,
          fmt::format("the tokenizer produced id {} outside the model's {} logits", id, n_vocab));
  return t;
}

// The --save-logits file, its header and the tokens its windows read written.
Result<std::unique_ptr<kl::Writer>> open_writer(const std::string& path, const kl::Header& h,
                                                const std::vector<Token>& tokens) {
  auto writer = std::make_unique<kl::Writer>();
  const size_t used = static_cast<size_t>(h.n_tokens());
  NIBBLE_TRY(writer->open(path, h, std::span<const Token>(tokens.data(), used)));
  return writer;
}

// KL mode: the base model's log-probabilities of the same position against ours (lp, from
// `logits`): KL divergence, top-1 agreement and the base's NLL of the target.
Status compare_row(kl::Reader& base, std::span<const float> logits, const std::vector<float>& lp,
                   Token target, std::vector<float>* lpb, KlStats* ks) {
  NIBBLE_TRY(base.read_row(lpb));
  double d = 0;
  for (size_t k = 0; k < lp.size(); ++k)
    d += std::exp(static_cast<double>((*lpb)[k])) * (static_cast<double>((*lpb)[k]) - lp[k]);
  ks->kld.push_back(std::max(d, 0.0));
  ks->top1_same += argmax(*lpb) == argmax(logits);
  ks->base_nll -= (*lpb)[static_cast<size_t>(target)];
  return ok_status();
}

// What the windows measured, for the report.
struct Scores {
  int n_chunks, n_tok, ctx, stride;
  double nll, nll2;  // sums of the scored positions' negative log-likelihoods and squares
  uint64_t count;    // scored positions
  KlStats ks;        // KL mode only
};

// Prints perplexity (and with a base, KL divergence and top-1 agreement) as text or JSON.
int report(const PplOptions& o, const Scores& sc, bool base) {
  const auto& [n_chunks, n_tok, ctx, stride, nll, nll2, count, ks] = sc;
  const double mean = nll / count;
  const double var = count > 1 ? std::max(nll2 / count - mean * mean, 0.0) : 0.0;
  const double ppl = std::exp(mean);
  const double ppl_err = ppl * std::sqrt(var / std::max<double>(count - 1, 1));
  double kl_mean = NAN, kl_se = NAN, top1 = NAN, top1_se = NAN, base_ppl = NAN;
  if (base) {
    double s = 0, s2 = 0;
    for (double d : ks.kld) s += d, s2 += d * d;
    const double n = static_cast<double>(ks.kld.size());
    kl_mean = s / n;
    kl_se = n > 1 ? std::sqrt(std::max(s2 / n - kl_mean * kl_mean, 0.0) / (n - 1)) : 0.0;
    top1 = ks.top1_same / n;
    top1_se = n > 1 ? std::sqrt(top1 * (1 - top1) / (n - 1)) : 0.0;
    base_ppl = std::exp(ks.base_nll / n);
  }
  if (o.json) {
    nlohmann::ordered_json j = {
        {"model", o.model},   {"perplexity", num(ppl)}, {"stderr", num(ppl_err)},
        {"chunks", n_chunks}, {"tokens", n_tok},        {"scored", count},
        {"ctx", ctx},         {"stride", stride},       {"nll_mean", num(mean)}};
    if (base) {
      j["base_perplexity"] = num(base_ppl);
      j["ln_ppl_ratio"] = num(std::log(ppl / base_ppl));
      j["kl_divergence"] = {{"mean", num(kl_mean)},
                            {"stderr", num(kl_se)},
                            {"median", num(percentile(ks.kld, 0.5))},
                            {"p99", num(percentile(ks.kld, 0.99))},
                            {"max", num(percentile(ks.kld, 1.0))}};
      j["top1_agreement"] = num(top1);
      j["top1_agreement_stderr"] = num(top1_se);
    }
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  } else {
    fmt::print(
        "perplexity: {:.4f} ± {:.4f} ({} windows of {} tokens, {} tokens scored, text {} "
        "tokens)\n",
        ppl, ppl_err, n_chunks, ctx, count, n_tok);
    if (base) {
      fmt::print("base perplexity: {:.4f}   ln(PPL/base PPL): {:.6f}\n", base_ppl,
                 std::log(ppl / base_ppl));
      fmt::print(
          "KL divergence: mean {:.6g} ± {:.3g}, median {:.6g}, 99th percentile {:.6g}, "
          "max {:.6g}\n",
          kl_mean, kl_se, percentile(ks.kld, 0.5), percentile(ks.kld, 0.99),
          percentile(ks.kld, 1.0));
      fmt::print("top-1 agreement: {:.3f}% ± {:.3f}%\n", 100 * top1, 100 * top1_se);
    }
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// The scored windows: tokens from the text, or (KL mode) tokens and windows from the base file.
struct Windows {
  std::vector<Token> tokens;
  int ctx = 0, stride = 0, step = 0, first = 0, n_chunks = 0;
  Token bos = -1;
  bool replace_bos = false;
};

Result<Windows> plan_windows(const PplOptions& o, const model::LoadedModel& m, int n_vocab,
                             const kl::Reader* base) {
  auto bad = [](std::string msg) { return Error(ErrorCode::invalid_argument, std::move(msg)); };
  Windows w;
  w.ctx = o.ctx;
  w.stride = o.stride;
  if (!o.text.empty()) {
    auto t = read_tokens(o.text, *m.tokenizer, n_vocab);
    if (!t.ok()) return bad(t.error().message());
    w.tokens = std::move(*t);
    w.bos = m.tokenizer->bos();
    w.replace_bos = m.tokenizer->add_bos() && w.bos >= 0;
  }
  if (base) {
    const auto& h = base->header();
    if (static_cast<int>(h.n_vocab) != n_vocab)
      return bad(fmt::format("{} has {} logits per position, the model {}", o.kl_base, h.n_vocab,
                             n_vocab));
    if (!w.tokens.empty() &&
        (w.tokens.size() < base->tokens().size() ||
         !std::equal(base->tokens().begin(), base->tokens().end(), w.tokens.begin())))
      return bad(fmt::format("{} tokenizes differently from the tokens in {}", o.text, o.kl_base));
    w.tokens = base->tokens();
    w.ctx = static_cast<int>(h.n_ctx);
    w.stride = static_cast<int>(h.stride);
    w.bos = h.bos;
    w.replace_bos = h.bos_replaced;
  }
  const int n_tok = static_cast<int>(w.tokens.size());
  if (!base && n_tok < 2 * w.ctx)
    return bad(fmt::format("{} tokenizes to {} tokens; --ctx {} needs at least {} (2 x ctx)",
                           o.text, n_tok, w.ctx, 2 * w.ctx));
  w.step = w.stride ? w.stride : w.ctx;
  w.first = w.stride ? w.ctx - w.stride - 1 : w.ctx / 2;
  w.n_chunks = base ? static_cast<int>(base->header().n_chunks)
                    : (w.stride ? (n_tok - w.ctx + w.stride - 1) / w.stride : n_tok / w.ctx);
  if (o.max_chunks > 0) w.n_chunks = std::min(w.n_chunks, o.max_chunks);
  // Windows that would run past the text (possible in stride mode's last window) are dropped.
  while (w.n_chunks > 0 && (w.n_chunks - 1) * w.step + w.ctx > n_tok) --w.n_chunks;
  if (w.n_chunks < 1) return bad("the text holds no complete window");
  return w;
}

int run_ppl(const PplOptions& o) {
  // ---- base file (KL mode): windows, tokens and BOS come from it ----
  std::unique_ptr<kl::Reader> base;
  if (!o.kl_base.empty()) {
    base = std::make_unique<kl::Reader>();
    if (auto st = base->open(o.kl_base); !st.ok()) return fail(st.error().to_string());
    if (o.ctx_given && static_cast<uint32_t>(o.ctx) != base->header().n_ctx)
      return fail(fmt::format("--ctx {} differs from the base file's context {}", o.ctx,
                              base->header().n_ctx));
  }
  // ---- model ----
  model::LoadOptions lo;
  lo.load_tokenizer = !o.text.empty();
  if (!o.isa.empty()) kernels::parse_isa(o.isa, &lo.isa_cap);
  auto m = model::load_model(o.model, lo);
  if (!m.ok()) return fail(m.error().to_string());
  const int n_vocab = static_cast<int>((*m)->config.n_vocab);

  auto planned = plan_windows(o, **m, n_vocab, base.get());
  if (!planned.ok()) return fail(planned.error().message());
  const Windows& w = *planned;
  const std::vector<Token>& tokens = w.tokens;
  const int ctx = w.ctx, stride = w.stride, step = w.step, first = w.first, n_chunks = w.n_chunks;
  const Token bos = w.bos;
  const bool replace_bos = w.replace_bos;
  const int n_tok = static_cast<int>(tokens.size());

  std::unique_ptr<kl::Writer> writer;
  if (!o.save_logits.empty()) {
    kl::Header h;
    h.n_vocab = static_cast<uint32_t>(n_vocab);
    h.n_ctx = static_cast<uint32_t>(ctx);
    h.first = static_cast<uint32_t>(first);
    h.n_chunks = static_cast<uint32_t>(n_chunks);
    h.stride = static_cast<uint32_t>(stride);
    h.bos_replaced = replace_bos;
    h.bos = replace_bos ? bos : -1;
    auto w = open_writer(o.save_logits, h, tokens);
    if (!w.ok()) return fail(w.error().to_string());
    writer = std::move(*w);
  }

  graph::ContextOptions co;
  co.n_ctx = ctx;
  co.n_threads = o.threads;
  co.n_batch = std::clamp(std::min(o.batch, ctx), 1, 4096);
  co.kv_q8_0 = o.kv_q8;
  auto c = graph::create_context(*m, co);
  if (!c.ok()) return fail(c.error().to_string());
  auto& ctxp = **c;

  fmt::print(stderr,
             "perplexity: {} tokens, {} windows of {} ({}), scoring positions {}..{} of each\n",
             n_tok, n_chunks, ctx, stride ? fmt::format("stride {}", stride) : "non-overlapping",
             first + 1, ctx - 1);
  const bool tty = NIBBLE_ISATTY(stderr) != 0;
  double nll = 0, nll2 = 0;
  uint64_t count = 0;
  KlStats ks;
  std::vector<float> lp, lpb;
  std::vector<Token> window(static_cast<size_t>(ctx));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n_chunks; ++i) {
    const int start = i * step;
    std::copy(tokens.begin() + start, tokens.begin() + start + ctx, window.begin());
    if (replace_bos) window[0] = bos;
    ctxp.truncate(0);
    if (auto st = ctxp.eval(window, true); !st.ok()) return fail(st.error().to_string());
    for (int j = first; j < ctx - 1; ++j) {
      const auto logits = ctxp.logits(j);
      const Token target = tokens[static_cast<size_t>(start + j + 1)];
      kl::log_softmax(logits, &lp);
      const double v = -static_cast<double>(lp[static_cast<size_t>(target)]);
      nll += v;
      nll2 += v * v;
      ++count;
      if (writer)
        if (auto st = writer->write_row(logits); !st.ok()) return fail(st.error().to_string());
      if (base)
        if (auto st = compare_row(*base, logits, lp, target, &lpb, &ks); !st.ok())
          return fail(st.error().to_string());
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(stderr, "{}[{}/{}] perplexity {:.4f}  ({:.1f} s, about {:.0f} s left){}",
               tty ? "\r" : "", i + 1, n_chunks, std::exp(nll / count), el,
               el / (i + 1) * (n_chunks - i - 1), tty && i + 1 < n_chunks ? "" : "\n");
  }
  if (writer)
    if (auto st = writer->finish(); !st.ok()) return fail(st.error().to_string());

  Scores sc{n_chunks, n_tok, ctx, stride, nll, nll2, count, std::move(ks)};
  return report(o, sc, base != nullptr);
}

Runner setup_perplexity(CLI::App& app) {
  auto o = std::make_shared<PplOptions>();
  app.add_option("-m,--model", o->model, "model file")->required()->type_name("MODEL.gguf");
  auto* text = app.add_option("-f,--file", o->text, "text to score")->type_name("TEXT");
  auto* ctx = app.add_option("-c,--ctx", o->ctx, "window length in tokens; scored on its 2nd half")
                  ->check(in_range(4, 1 << 20))->capture_default_str();
  auto* stride = app.add_option("--stride", o->stride,
                                "overlapping windows every S tokens, scoring the last S of each")
                     ->check(in_range(1, 1 << 20));
  app.add_option("--chunks", o->max_chunks, "evaluate at most N windows (default: all)")
      ->check(in_range(1, 1 << 30));
  app.add_option("-b,--batch", o->batch, "tokens per forward pass")
      ->check(in_range(1, 4096))->capture_default_str();
  app.add_option("-t,--threads", o->threads, "threads (default: physical cores)")
      ->check(in_range(1, 512));
  add_isa_option(app, o->isa);
  app.add_flag("--kv-q8", o->kv_q8, "KV cache in q8_0 instead of f16");
  auto* save = app.add_option("--save-logits", o->save_logits,
                              "write the scored positions' log-probabilities (for KL runs)")
                   ->type_name("FILE");
  auto* kl = app.add_option("--kl-divergence", o->kl_base,
                            "compare with a base file: KL divergence, top-1 agreement")
                 ->type_name("FILE");
  save->excludes(kl);
  stride->excludes(kl);  // the base file holds the stride
  app.add_flag("--json", o->json, "one JSON object on stdout");
  app.footer(
      "A base run: -f TEXT --save-logits BASE.kld; a comparison: -m QUANT.gguf "
      "--kl-divergence BASE.kld [-f TEXT]. Definitions: docs/tools.md.");
  return [o, &app, text, kl, ctx] {
    o->ctx_given = ctx->count() > 0;
    if (text->count() == 0 && kl->count() == 0) return usage_error(app, "-f TEXT is required");
    if (o->stride && o->stride >= o->ctx)
      return usage_error(app, fmt::format("--stride {} must be below --ctx {}", o->stride, o->ctx));
    return run_ppl(*o);
  };
}

}  // namespace

NIBBLE_COMMAND(perplexity,
               "perplexity of a model on a text; KL divergence against saved base logits",
               setup_perplexity);

}  // namespace nibble::cli
