// `nibble bench`: prefill and decode speed of models on this machine, in the shape of the
// benchmark users know (llama-bench): -m (repeatable), -p / -n / -t lists, -r repetitions
// after a warm-up; a markdown table or, with --json, one JSON array. Definitions (what is
// timed, what each field means) are in docs/tools.md; progress goes to stderr.
//
// Runs on the engine's inference context (src/graph/context.h) with synthetic token ids:
//   ppN  one eval of N tokens on an empty KV cache, logits of the last token only;
//   tgN  N evals of one token each, starting from an empty KV cache.
// With -d D (depth) the cache already holds D positions when a test starts: they are filled
// once per (test, depth), untimed, and each timed run truncates back to them ("pp512 @ d4096").
// Nothing is sampled or detokenized, so the figures are the forward passes alone.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_probe.h"
#include "bench_spec.h"
#include "command.h"
#include "nibble/version.h"
#include "graph/context.h"
#include "model/loader.h"
#include "runtime/thread_pool.h"

namespace nibble::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> models;
  std::vector<int> prompts{512}, gens{128}, threads, depths{0};
  int n_ctx = 0;  // 0: the largest depth + the longest test
  int reps = 5;
  int batch = 512;
  std::string isa;
  bool kv_q8 = false, json = false;
  int contention = 0;
  size_t probe_bytes = 0;
  SpecBenchOptions spec;  // --verify / --lookup / --draft (bench_spec.cpp)
};

// What a model file says about its weights (GGUF sizes).
struct WeightStats {
  uint64_t file_weight_bytes = 0;  // every tensor
  uint64_t bytes_per_token = 0;    // read by one decode step: all but an untied embedding
  // What one decode step reads in memory: bytes_per_token with each matrix at the size of the
  // copy its kernel reads (a repacked layout can be larger than the file's rows: q4_k_x8 148
  // bytes per 144; padding rows). gb_per_s and the share of the probe are counted on these.
  uint64_t read_bytes_per_token = 0;
  uint64_t n_params = 0;
  std::string dominant_type;  // type holding the most bytes
};

struct Record {
  std::string model, path, arch, type, isa, test;
  int threads = 0, n_tokens = 0, reps = 0, depth = 0, n_ctx = 0;
  bool is_decode = false;
  double tokens_per_s = 0, stddev = 0, ttft_ms = 0, peak_rss_mib = 0;
  double gb_per_s = NAN, bandwidth_fraction = NAN, read_bw_gb_per_s = 0;
  double read_bw_start = 0, read_bw_end = 0;  // the two probes (GB/s)
  // Decode only: the median time of one token over every timed run, and the share of the timed
  // time that tokens slower than 1.5x that median spent beyond it (stalls: other processes,
  // or the real-time throttle of a `chrt -f` run, 50 ms per second by default on Linux).
  double token_ms_median = NAN, slow_token_fraction = NAN;
  WeightStats w;
};

WeightStats weight_stats(const gguf::File& f) {
  WeightStats w;
  std::map<std::string_view, uint64_t> by_type;
  const bool tied = f.find_tensor("output.weight") == nullptr;
  for (const auto& t : f.tensors()) {
    w.file_weight_bytes += t.n_bytes;
    w.n_params += t.n_elements;
    by_type[tensor_type_name(t.type)] += t.n_bytes;
    if (t.name != "token_embd.weight" || tied) w.bytes_per_token += t.n_bytes;
  }
  uint64_t best = 0;
  for (auto& [name, bytes] : by_type)
    if (bytes > best) best = bytes, w.dominant_type = std::string(name);
  return w;
}

// bytes_per_token with every matrix of the model counted as the bytes its kernel reads (the
// repacked copy's size, else the file's), so that GB/s is the bytes the decode streams.
uint64_t read_bytes_per_token(const WeightStats& w, const model::LoadedModel& m) {
  int64_t delta = 0;
  auto add = [&](const model::Matrix& mat) {
    if (!mat.present() || !mat.w.repacked()) return;
    const auto ti = tensor_type_info(mat.w.type);
    const int64_t file = ti.block_size == 0 ? 0
                                            : mat.w.rows * (mat.w.cols / ti.block_size) *
                                                  static_cast<int64_t>(ti.type_size);
    delta += static_cast<int64_t>(mat.w.bytes) - file;
  };
  for (const model::Layer& L : m.layers)
    for (const model::Matrix* mat : L.matrices()) add(*mat);
  add(m.output);
  return static_cast<uint64_t>(static_cast<int64_t>(w.bytes_per_token) + delta);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0;
  for (double x : v) m += x;
  m /= v.size();
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

// Non-finite figures (a run that measured nothing) are written as null.
nlohmann::ordered_json json_number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

std::string to_json(const std::vector<Record>& recs, const Options& o) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Record& r : recs) {
    out.push_back({{"model", r.model},
                   {"model_path", r.path},
                   {"arch", r.arch},
                   {"type", r.type},
                   {"model_bytes", r.w.file_weight_bytes},
                   {"n_params", r.w.n_params},
                   {"weight_bytes_per_token", r.w.bytes_per_token},
                   {"weight_read_bytes_per_token", r.w.read_bytes_per_token},
                   {"threads", r.threads},
                   {"test", r.test},
                   {"n_tokens", r.n_tokens},
                   {"n_depth", r.depth},
                   {"n_ctx", r.n_ctx},
                   {"repetitions", r.reps},
                   {"tokens_per_s", json_number(r.tokens_per_s)},
                   {"stddev", json_number(r.stddev)},
                   {"gb_per_s", json_number(r.gb_per_s)},
                   {"bandwidth_fraction", json_number(r.bandwidth_fraction)},
                   {"read_bw_gb_per_s", json_number(r.read_bw_gb_per_s)},
                   {"token_ms_median", json_number(r.token_ms_median)},
                   {"slow_token_fraction", json_number(r.slow_token_fraction)},
                   {"read_bw_probes_gb_per_s",
                    {json_number(r.read_bw_start), json_number(r.read_bw_end)}},
                   {"peak_rss_mib", json_number(r.peak_rss_mib)},
                   {"ttft_ms", json_number(r.ttft_ms)},
                   {"isa", r.isa},
                   {"kv_type", o.kv_q8 ? "q8_0" : "f16"},
                   {"batch", o.batch},
                   {"contention", o.contention},
                   {"version", NIBBLE_VERSION_STRING},
                   {"commit", build_commit()}});
  }
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string to_markdown(const std::vector<Record>& recs) {
  std::string s =
      "| model | type | size | threads | isa | test | t/s | GB/s | of read bw | peak RSS | "
      "TTFT ms |\n"
      "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Record& r : recs) {
    const std::string gbs = std::isfinite(r.gb_per_s) ? fmt::format("{:.2f}", r.gb_per_s) : "";
    const std::string frac =
        std::isfinite(r.bandwidth_fraction)
            ? fmt::format("{:.0f}% of {:.1f}", 100 * r.bandwidth_fraction, r.read_bw_gb_per_s)
            : "";
    s += fmt::format("| {} | {} | {:.1f} MiB | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} | {:.0f} "
                     "MiB | {:.1f} |\n",
                     r.model, r.type, r.w.file_weight_bytes / 1048576.0, r.threads, r.isa, r.test,
                     r.tokens_per_s, r.stddev, gbs, frac, r.peak_rss_mib, r.ttft_ms);
  }
  return s;
}

// Runs one test (ppN or tgN) `reps` times after a warm-up, each on a cache holding `depth`
// positions (filled once here, untimed); fills the timing fields of `r`.
Status run_test(graph::InferenceContext& ctx, bool decode, int n, int depth, int reps,
                uint64_t seed, Record* r) {
  const auto tokens = bench::synthetic_tokens(n, ctx.n_vocab(), seed);
  ctx.truncate(0);
  if (depth > 0) {
    const auto filler = bench::synthetic_tokens(depth, ctx.n_vocab(), seed + 7919);
    if (auto st = ctx.eval(filler, false); !st.ok())
      return st;
  }
  std::vector<double> rates, first_ms, token_ms;
  for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up, not recorded
    ctx.truncate(depth);
    double first = 0;
    const auto t0 = Clock::now();
    if (decode) {
      for (int i = 0; i < n; ++i) {
        const auto ti = Clock::now();
        if (auto st = ctx.eval(std::span<const Token>(&tokens[i], 1), false); !st.ok()) return st;
        if (rep >= 0)
          token_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - ti).count());
        if (i == 0) first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      }
    } else {
      if (auto st = ctx.eval(tokens, false); !st.ok()) return st;
      first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (rep < 0) continue;
    rates.push_back(n / std::max(s, 1e-9));
    first_ms.push_back(first);
  }
  if (!token_ms.empty()) {
    const double med = median(token_ms);
    double total = 0, slow = 0;
    for (double t : token_ms) total += t, slow += t > 1.5 * med ? t - med : 0;
    r->token_ms_median = med;
    r->slow_token_fraction = slow / std::max(total, 1e-12);
  }
  r->tokens_per_s = median(rates);
  r->stddev = stddev(rates);
  r->ttft_ms = median(first_ms);
  return {};
}

int fail(const std::string& msg) {
  fmt::print(stderr, "nibble bench: {}\n", msg);
  return 1;
}

int bench_main(const Options& o) {
  // Read-bandwidth probe per thread count, before anything else runs (no model, no
  // competitors), so it is the machine's figure; its buffer is freed before models load.
  std::map<int, double> probe, probe_end;
  for (int t : o.threads) {
    if (probe.count(t)) continue;
    fmt::print(stderr, "bench: read-bandwidth probe, {} thread{}, {} MiB\n", t, t > 1 ? "s" : "",
               o.probe_bytes >> 20);
    probe[t] = bench::measure_read_bandwidth(t, o.probe_bytes, 7);
    if (probe[t] <= 0) return fail(fmt::format("cannot allocate the {} MiB probe buffer",
                                               o.probe_bytes >> 20));
    fmt::print(stderr, "bench:   {:.2f} GB/s\n", probe[t] / 1e9);
  }
  bench::Contention competitors;
  if (o.contention > 0) {
    if (!competitors.start(o.contention)) return fail("cannot start the --contention processes");
    fmt::print(stderr, "bench: {} busy-looping processes running\n", competitors.size());
  }
  model::LoadOptions lo;
  lo.load_tokenizer = false;
  if (!o.isa.empty()) kernels::parse_isa(o.isa, &lo.isa_cap);
  std::vector<Record> recs;
  for (const auto& path : o.models) {
    bench::reset_peak_rss();
    fmt::print(stderr, "bench: loading {}\n", path);
    auto m = model::load_model(path, lo);
    if (!m.ok()) return fail(m.error().to_string());
    const auto& model = **m;
    Record base;
    base.path = path;
    base.model = std::filesystem::path(path).stem().string();
    base.arch = model.config.arch_name;
    base.isa = std::string(kernels::isa_name(model.kernels->isa()));
    base.w = weight_stats(*model.file);
    base.w.read_bytes_per_token = read_bytes_per_token(base.w, model);
    base.type = base.w.dominant_type;
    int max_n = 1;
    for (int p : o.prompts) max_n = std::max(max_n, p);
    for (int n : o.gens) max_n = std::max(max_n, n);
    const int max_d = *std::max_element(o.depths.begin(), o.depths.end());
    const int n_ctx = o.n_ctx > 0 ? o.n_ctx : max_d + max_n;
    if (max_d + max_n > n_ctx)
      return fail(fmt::format("--ctx {} cannot hold depth {} + {} tokens", n_ctx, max_d, max_n));
    for (int t : o.threads) {
      graph::ContextOptions co;
      co.n_ctx = n_ctx;
      co.n_threads = t;
      co.n_batch = std::clamp(std::min(o.batch, max_n), 1, 4096);
      co.kv_q8_0 = o.kv_q8;
      auto ctx = graph::create_context(*m, co);
      if (!ctx.ok()) return fail(fmt::format("{}: {}", path, ctx.error().to_string()));
      for (int pass = 0; pass < 2; ++pass) {
        const bool decode = pass == 1;
        for (int n : decode ? o.gens : o.prompts)
        for (int d : o.depths) {
          if (n == 0) continue;
          Record r = base;
          r.threads = t;
          r.is_decode = decode;
          r.n_tokens = n;
          r.depth = d;
          r.n_ctx = n_ctx;
          r.reps = o.reps;
          r.test = fmt::format("{}{}", decode ? "tg" : "pp", n);
          if (d > 0) r.test += fmt::format(" @ d{}", d);
          fmt::print(stderr, "bench: {} threads={} {} ({} runs after a warm-up)\n", r.model, t,
                     r.test, o.reps);
          if (auto st = run_test(**ctx, decode, n, d, o.reps, recs.size() + 1, &r); !st.ok())
            return fail(fmt::format("{}: {}", path, st.error().to_string()));
          if (decode)
            r.gb_per_s = r.tokens_per_s * static_cast<double>(r.w.read_bytes_per_token) / 1e9;
          r.peak_rss_mib = bench::peak_rss_bytes() / 1048576.0;
          fmt::print(stderr, "bench:   {:.2f} ± {:.2f} tokens/s\n", r.tokens_per_s, r.stddev);
          if (decode)
            fmt::print(stderr,
                       "bench:   median token {:.3f} ms; tokens over 1.5x it: {:.1f} % of the time "
                       "beyond the median\n",
                       r.token_ms_median, 100 * r.slow_token_fraction);
          recs.push_back(std::move(r));
        }
      }
    }
  }
  competitors.stop();
  // Second probe, after the runs (competitors gone): a load spike during the first one would
  // otherwise understate the machine's bandwidth. Each thread count uses the higher median.
  for (auto& [t, bw] : probe) {
    const double again = bench::measure_read_bandwidth(t, o.probe_bytes, 7);
    fmt::print(stderr, "bench: read-bandwidth probe again, {} thread{}: {:.2f} GB/s\n", t,
               t > 1 ? "s" : "", again / 1e9);
    probe_end[t] = again;
  }
  for (Record& r : recs) {
    r.read_bw_start = probe[r.threads] / 1e9;
    r.read_bw_end = probe_end[r.threads] / 1e9;
    r.read_bw_gb_per_s = std::max(r.read_bw_start, r.read_bw_end);
    if (r.is_decode) r.bandwidth_fraction = r.gb_per_s / r.read_bw_gb_per_s;
  }
  const std::string out = o.json ? to_json(recs, o) : to_markdown(recs);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int run_bench(Options& o) {
  if (o.threads.empty()) o.threads = {ThreadPool::physical_cores()};
  if (o.spec.requested()) return run_spec_bench(o.spec, o.models, o.threads, o.reps, o.isa, o.json);
  bool any = false;
  for (int v : o.prompts) any |= v > 0;
  for (int v : o.gens) any |= v > 0;
  if (!any) return fail("nothing to run: -p and -n are both 0");
  for (const auto& m : o.models)
    if (!std::filesystem::is_regular_file(m)) return fail(fmt::format("{}: no such file", m));
  if (o.threads.empty()) o.threads = {ThreadPool::physical_cores()};
  if (o.probe_bytes == 0) o.probe_bytes = bench::default_probe_bytes();
  return bench_main(o);
}

Runner setup_bench(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto probe_mib = std::make_shared<size_t>(0);
  add_repeated(app, "-m,--model", o->models, "model file (repeat for several)")
      ->required()->type_name("MODEL.gguf");
  add_int_list(app, "-p,--n-prompt", o->prompts, 0, 1 << 20,
               "prompt lengths to prefill, e.g. 64,512 (0 = no prefill test)")
      ->capture_default_str();
  add_int_list(app, "-n,--n-gen", o->gens, 0, 1 << 20,
               "tokens to generate one at a time (0 = no decode test)")
      ->capture_default_str();
  add_int_list(app, "-d,--n-depth", o->depths, 0, 1 << 20,
               "tokens already in the KV cache when each test starts (filled untimed), e.g. "
               "0,4096")
      ->capture_default_str();
  app.add_option("--ctx", o->n_ctx, "session context size (0 = the largest depth + longest test)")
      ->check(in_range(0, 1 << 20))->capture_default_str();
  add_int_list(app, "-t,--threads", o->threads, 1, 512,
               "thread counts, e.g. 1,2 (default: physical cores)");
  app.add_option("-r,--repetitions", o->reps, "timed runs of each test after one warm-up run")
      ->check(in_range(1, 1000))->capture_default_str();
  app.add_option("-b,--batch", o->batch, "prefill batch: tokens per forward pass")
      ->check(in_range(1, 4096))->capture_default_str();
  add_isa_option(app, o->isa);
  app.add_flag("--kv-q8", o->kv_q8, "KV cache in q8_0 instead of f16");
  app.add_option("--contention", o->contention,
                 "run K busy-looping processes alongside (killed on exit)")
      ->check(in_range(0, 256))->capture_default_str();
  app.add_option("--probe-mib", *probe_mib,
                 "read-bandwidth probe buffer (default 8x last-level cache, 256..1024 MiB)")
      ->check(in_range(1, 65536));
  app.add_flag("--json", o->json, "one JSON array on stdout instead of a markdown table");
  add_spec_bench_options(app, o->spec);
  // The Windows competitors of --contention are this program started with this flag.
  app.add_flag_callback("--contention-child", [] { bench::spin_forever(); })->group("");
  app.footer("Progress goes to stderr. Fields and definitions: docs/tools.md.");
  return [o, probe_mib] {
    o->probe_bytes = *probe_mib << 20;
    return run_bench(*o);
  };
}

}  // namespace

NIBBLE_COMMAND(bench, "measure prefill and decode speed (tokens/s, GB/s, share of bandwidth)",
               setup_bench);

}  // namespace nibble::cli

