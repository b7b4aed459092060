// `nibble bench --verify LIST | --lookup N | --draft MODEL` (bench_spec.h, docs/tools.md).
#include "bench_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_probe.h"
#include "graph/context.h"
#include "kernels/registry.h"
#include "model/loader.h"
#include "nibble/nibble.h"

namespace nibble::cli {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int fail(const std::string& m) {
  fmt::print(stderr, "nibble bench: {}\n", m);
  return 1;
}

struct VerifyRow {
  std::string model;
  int threads = 0, drafts = 0, depth = 0, reps = 0;
  double decode_ms = 0, verify_ms = 0;
};

// Per repetition: kIters decode steps (one token, last logits) and kIters verification passes
// (1 + drafts tokens, every row's logits), each at KV depth `depth` and rolled back after,
// alternating which goes first. Medians of the per-pass times over the repetitions.
constexpr int kIters = 8;
Status time_verify(graph::InferenceContext& ctx, int depth, int drafts, int reps, VerifyRow* r) {
  const auto prompt = bench::synthetic_tokens(depth, ctx.n_vocab(), 1);
  const auto batch = bench::synthetic_tokens(1 + drafts, ctx.n_vocab(), 2);
  ctx.truncate(0);
  NIBBLE_TRY(ctx.eval(prompt, false));
  std::vector<double> dec, ver;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    double d = 0, v = 0;
    for (int order = 0; order < 2; ++order) {
      const bool verify = (order == 0) == (rep % 2 == 1);
      const auto t0 = Clock::now();
      for (int i = 0; i < kIters; ++i) {
        NIBBLE_TRY(ctx.eval(std::span<const Token>(batch).first(verify ? batch.size() : 1),
                            verify));
        ctx.truncate(depth);
      }
      (verify ? v : d) = ms_since(t0) / kIters;
    }
    if (rep == 0) continue;
    dec.push_back(d);
    ver.push_back(v);
  }
  r->decode_ms = median(dec);
  r->verify_ms = median(ver);
  return ok_status();
}

struct GenRow {
  std::string model, drafter;
  int threads = 0, tokens = 0, reps = 0;
  double plain_tps = 0, spec_tps = 0, tokens_per_pass = 0, accepted_per_pass = 0,
         acceptance = 0;
  bool identical = true;
};

// One greedy generation; its text and statistics.
Result<std::pair<std::string, Stats>> generate(Session& s, const SpecBenchOptions& o) {
  GenerateOptions g;
  g.max_tokens = o.gen;
  std::string text;
  auto st = s.generate(o.prompt, g, [&](std::string_view t) {
    text.append(t);
    return true;
  });
  if (!st) return st.error();
  return std::make_pair(std::move(text), *st);
}

// Plain and speculative sessions alternate, reps times after a warm-up of each.
Status time_generation(const Model& model, const SpecBenchOptions& o, int threads, int reps,
                       GenRow* r) {
  SessionOptions so;
  so.n_threads = threads;
  so.sampling.temperature = 0;
  so.n_ctx = std::min(4096, o.gen + 1024);
  SessionOptions sp = so;
  sp.speculative.lookup_ngram = o.lookup;
  sp.speculative.n_draft = o.n_draft;
  if (!o.draft.empty()) {
    NIBBLE_ASSIGN_OR_RETURN(auto dm, Model::load(o.draft));
    sp.speculative.draft_model = dm;
  }
  NIBBLE_ASSIGN_OR_RETURN(auto plain, Session::create(model, so));
  NIBBLE_ASSIGN_OR_RETURN(auto spec, Session::create(model, sp));
  std::vector<double> tp, ts, tpp, app, acc;
  std::string text[2];
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    for (int order = 0; order < 2; ++order) {
      const int speculative = (order == 0) == (rep % 2 == 1) ? 1 : 0;
      NIBBLE_ASSIGN_OR_RETURN(auto out, generate(speculative ? spec : plain, o));
      text[speculative] = std::move(out.first);
      if (rep == 0) continue;
      const Stats& s = out.second;
      r->tokens = s.generated_tokens;
      (speculative ? ts : tp).push_back(s.decode_tokens_per_s);
      if (!speculative) continue;
      const double passes = std::max(1, s.decode_passes);
      tpp.push_back((s.generated_tokens - 1) / passes);
      app.push_back(s.accepted_tokens / passes);
      acc.push_back(s.draft_tokens ? double(s.accepted_tokens) / s.draft_tokens : 0.0);
    }
    r->identical = r->identical && text[0] == text[1];  // greedy: exactly plain decoding
  }
  r->plain_tps = median(tp);
  r->spec_tps = median(ts);
  r->tokens_per_pass = median(tpp);
  r->accepted_per_pass = median(app);
  r->acceptance = median(acc);
  return ok_status();
}

}  // namespace

void add_spec_bench_options(CLI::App& app, SpecBenchOptions& o) {
  const char* g = "Speculative decoding (instead of the pp/tg tests)";
  add_int_list(app, "--verify", o.verify, 1, 64,
               "time verifying N draft tokens (one pass over 1+N tokens) against one decode step")
      ->group(g);
  auto* lookup =
      app.add_option("--lookup", o.lookup, "generation test with prompt lookup of n-grams up to N")
          ->check(in_range(1, 16))->group(g);
  app.add_option("--draft", o.draft, "generation test with this draft model")
      ->type_name("MODEL.gguf")->check(CLI::ExistingFile)->group(g)->excludes(lookup);
  app.add_option("--n-draft", o.n_draft, "most tokens drafted per pass")
      ->check(in_range(1, 64))->capture_default_str()->group(g);
  app.add_option("--spec-depth", o.depth, "tokens in the KV cache before --verify's passes")
      ->check(in_range(1, 1 << 16))->capture_default_str()->group(g);
  app.add_option("--spec-gen", o.gen, "tokens generated per run (--lookup / --draft)")
      ->check(in_range(2, 4096))->capture_default_str()->group(g);
  app.add_option("--spec-prompt", o.prompt, "prompt of the generation test")
      ->capture_default_str()->group(g);
}

int run_spec_bench(const SpecBenchOptions& o, const std::vector<std::string>& models,
                   const std::vector<int>& threads, int reps, const std::string& isa, bool json) {
  std::vector<VerifyRow> vrows;
  std::vector<GenRow> grows;
  for (const auto& path : models) {
    const std::string name = std::filesystem::path(path).stem().string();
    if (!o.verify.empty()) {
      model::LoadOptions lo;
      lo.load_tokenizer = false;
      if (!isa.empty()) kernels::parse_isa(isa, &lo.isa_cap);
      auto m = model::load_model(path, lo);
      if (!m.ok()) return fail(m.error().to_string());
      int most = 1;
      for (int v : o.verify) most = std::max(most, v);
      for (int t : threads) {
        graph::ContextOptions co;
        co.n_ctx = o.depth + most + 1;
        co.n_threads = t;
        co.n_batch = std::max(64, most + 1);
        auto ctx = graph::create_context(*m, co);
        if (!ctx.ok()) return fail(fmt::format("{}: {}", path, ctx.error().to_string()));
        for (int d : o.verify) {
          VerifyRow r{name, t, d, o.depth, reps};
          fmt::print(stderr, "bench: {} threads={} verify {} drafts at depth {}\n", name, t, d,
                     o.depth);
          if (auto st = time_verify(**ctx, o.depth, d, reps, &r); !st.ok())
            return fail(fmt::format("{}: {}", path, st.error().to_string()));
          vrows.push_back(r);
        }
      }
    }
    if (o.lookup == 0 && o.draft.empty()) continue;
    ModelOptions mo;
    mo.isa = isa;
    auto model = Model::load(path, mo);
    if (!model) return fail(model.error().to_string());
    for (int t : threads) {
      GenRow r;
      r.model = name;
      r.threads = t;
      r.reps = reps;
      r.drafter = o.draft.empty() ? fmt::format("lookup {}", o.lookup)
                                  : "draft " + std::filesystem::path(o.draft).stem().string();
      fmt::print(stderr, "bench: {} threads={} generation, {}\n", name, t, r.drafter);
      if (auto st = time_generation(*model, o, t, reps, &r); !st.ok())
        return fail(fmt::format("{}: {}", path, st.error().to_string()));
      if (!r.identical) return fail(name + ": speculative output differs from plain decoding");
      grows.push_back(r);
    }
  }
  std::string out;
  if (json) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& r : vrows)
      a.push_back({{"model", r.model}, {"test", fmt::format("verify{}", r.drafts)},
                   {"threads", r.threads}, {"depth", r.depth}, {"reps", r.reps},
                   {"decode_ms", r.decode_ms}, {"verify_ms", r.verify_ms},
                   {"verify_over_decode", r.verify_ms / r.decode_ms}});
    for (const auto& r : grows)
      a.push_back({{"model", r.model}, {"test", "speculative"}, {"drafter", r.drafter},
                   {"threads", r.threads}, {"tokens", r.tokens}, {"reps", r.reps},
                   {"plain_tokens_per_s", r.plain_tps}, {"spec_tokens_per_s", r.spec_tps},
                   {"speedup", r.spec_tps / r.plain_tps}, {"tokens_per_pass", r.tokens_per_pass},
                   {"accepted_per_pass", r.accepted_per_pass}, {"acceptance", r.acceptance}});
    out = a.dump(2) + "\n";
  } else {
    if (!vrows.empty())
      out += "| model | threads | depth | drafts | decode step ms | verify pass ms | ratio |\n"
             "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : vrows)
      out += fmt::format("| {} | {} | {} | {} | {:.2f} | {:.2f} | {:.2f} |\n", r.model, r.threads,
                         r.depth, r.drafts, r.decode_ms, r.verify_ms, r.verify_ms / r.decode_ms);
    if (!grows.empty())
      out += fmt::format("{}| model | threads | drafter | tokens | plain tok/s | speculative tok/s "
                         "| speedup | tokens/pass | accepted/pass | acceptance |\n"
                         "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
                         vrows.empty() ? "" : "\n");
    for (const auto& r : grows)
      out += fmt::format("| {} | {} | {} | {} | {:.1f} | {:.1f} | {:.2f} | {:.2f} | {:.2f} | "
                         "{:.2f} |\n",
                         r.model, r.threads, r.drafter, r.tokens, r.plain_tps, r.spec_tps,
                         r.spec_tps / r.plain_tps, r.tokens_per_pass, r.accepted_per_pass,
                         r.acceptance);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace nibble::cli

