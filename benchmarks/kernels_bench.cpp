// Matmul kernel throughput over the layer shapes of real small language models, for every
// registered variant (kernels/registry.inc, expanded through matmul_variants()) the CPU can
// run, reported as weight bytes per second and as a fraction of the read bandwidth the same
// binary measures for the same thread count.
//
// Shapes are "k x rows": k = input dimension (elements per weight row, the dot-product length),
// rows = output rows. Both directions of each FFN matrix are included:
//   576x1536, 1536x576     SmolLM2-135M (hidden 576, FFN 1536)
//   896x4864, 4864x896     Qwen2.5-0.5B (hidden 896, FFN 4864)
//   2048x8192, 8192x2048   Llama-3.2-1B (hidden 2048, FFN 8192)
//   2560x6912, 6912x2560   BitNet b1.58 2B (hidden 2560, FFN 6912)
// A (format, shape) pair whose k is not a multiple of the format's block is not registered
// (e.g. the 256-element k-quant/TQ formats at k = 576 or 896), and says so on stderr.
//
// Weights out of cache: one matrix is quantized from Gaussian data with the reference
// quantizer (64 distinct rows tiled over the matrix: the kernels are data-independent), then
// copied until the copies exceed 2x the last-level cache (read at run time), capped by
// --nb_max_mib (default 1024 MiB; the rot_MiB counter and the context say when the cap
// bounds it). Each iteration multiplies the next copy. The kernel is called as the engine calls
// it: KernelTable::get(variant ISA).prepare() (which may repack) and KernelTable::matmul() when
// that table picks this variant; otherwise the variant's function directly, on the GGUF
// layout or, for a packed variant, on copies packed by its own pack function. After timing, a few
// output rows are checked against ref::dot_row (a wrong layout or argument fails the run: exit
// status 1).
//
// Threads: rows are split over nibble::ThreadPool (the engine's pool) in chunks aligned to the
// variant's rows_per_call; the activation quantization is not timed (the engine does it once
// per input, not per matrix).
//
// Bandwidth probe: a streaming SIMD read (sums of 32- or 16-byte loads, so it cannot be
// optimised away) over a buffer of the same size as the rotation set, measured at start-up
// (median of --nb_probe_passes passes after one warm-up) for each thread count, and also
// registered as benchmarks read_bw/thrN, which run first.
//
// Counters: wbytes = weight bytes (GGUF size of the matrix) per second; bw_frac = wbytes /
// start-up probe for the same thread count (plain value, timed by the benchmark itself with
// steady_clock around its loop); tok/s = tokens multiplied per second; rot_MiB = rotation set.
// Single-thread runs also report wbytes_cpu / bw_frac_cpu: the same timed by the thread's CPU
// time, against a probe timed the same way (a shared machine descheduling the benchmark
// lowers the wall-time figures; these leave that out, not other processes' memory traffic).
//
// Own flags (after Google Benchmark's): --nb_shapes=KxR,... --nb_tokens=N (prefill case, 0 =
// none; default 16) --nb_threads=1,2 (default 1 and the hardware threads) --nb_max_mib=1024
// --nb_llc_mib=M (override the detected LLC) --nb_probe_passes=7.
//
// Names: matmul/<format>/<isa>/<variant>/k<k>_r<rows>/tok<tokens>/thr<threads>, read_bw/thr<n>.
//   build/<dir>/benchmarks/kernels_bench --benchmark_filter='read_bw|tok1/thr1/'
//   scripts/bench-kernels.sh   (repetitions, JSON, markdown table)
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/dispatch/read_probe.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"
#include "runtime/cpu_topology.h"
#include "runtime/thread_pool.h"

namespace {

using namespace nibble;
using namespace nibble::kernels;

constexpr size_t kMiB = size_t{1} << 20;

struct Options {
  std::vector<std::pair<int64_t, int64_t>> shapes = {{576, 1536},  {1536, 576},  {896, 4864},
                                                     {4864, 896},  {2048, 8192}, {8192, 2048},
                                                     {2560, 6912}, {6912, 2560}};
  int prefill_tokens = 16;
  std::vector<int> threads;
  size_t max_bytes = 1024 * kMiB;
  size_t llc_bytes = 0;
  int probe_passes = 7;
};
Options g_opt;
size_t g_rotation_target = 0;  // bytes the copies of a matrix should reach
std::map<int, double> g_bw;    // threads -> start-up probe, bytes/s
double g_bw_cpu = 0;           // 1 thread, timed by the thread's CPU time (see thread_seconds)
int g_failures = 0;

// ---- memory -------------------------------------------------------------------------------

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer alloc(size_t bytes) {
  bytes = (bytes + 4095) / 4096 * 4096;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
  if (!p) {
    std::fprintf(stderr, "kernels_bench: out of memory (%zu bytes)\n", bytes);
    std::exit(2);
  }
  return Buffer(p);
}


// ---- thread pools -------------------------------------------------------------------------

ThreadPool& pool(int n) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[n];
  if (!p) p = std::make_unique<ThreadPool>(n);
  return *p;
}

// ---- read-bandwidth probe -----------------------------------------------------------------

struct ProbeBuffer {
  Buffer buf;
  size_t bytes = 0;
};
ProbeBuffer& probe_buffer() {
  static ProbeBuffer b;
  if (!b.buf) {
    b.bytes = g_rotation_target / 4096 * 4096;
    b.buf = alloc(b.bytes);
    for (size_t i = 0; i < b.bytes; i += 8) {  // non-zero, non-constant contents
      const uint64_t v = i * 0x9E3779B97F4A7C15ull;
      std::memcpy(b.buf.get() + i, &v, 8);
    }
  }
  return b;
}

// One pass over the probe buffer on `threads` threads (each reads its contiguous share).
uint64_t probe_pass(int threads) {
  ProbeBuffer& b = probe_buffer();
  const size_t share = b.bytes / threads / 128 * 128;
  std::vector<uint64_t> sums(threads);
  pool(threads).run(
      [&](int i) { sums[i] = kernels::read_sum(b.buf.get() + i * share, share); });
  uint64_t s = 0;
  for (uint64_t v : sums) s += v;
  return s;
}

// CPU time of the calling thread. On a shared machine a single-thread figure timed this way
// leaves out the time the thread was descheduled (not the memory traffic of other processes).
double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over passes of bytes / wall time; for 1 thread also *cpu_rate = bytes / CPU time.
double measure_bandwidth(int threads, double* cpu_rate) {
  const size_t bytes = probe_buffer().bytes / threads / 128 * 128 * threads;
  benchmark::DoNotOptimize(probe_pass(threads));  // warm-up (pages, pool threads)
  std::vector<double> rates, cpu_rates;
  for (int p = 0; p < g_opt.probe_passes; ++p) {
    const double c0 = thread_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(probe_pass(threads));
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    rates.push_back(bytes / dt.count());
    cpu_rates.push_back(bytes / std::max(1e-9, thread_seconds() - c0));
  }
  if (cpu_rate) *cpu_rate = median(cpu_rates);
  return median(rates);
}

void BM_read_bw(benchmark::State& state, int threads) {
  const size_t bytes = probe_buffer().bytes / threads / 128 * 128 * threads;
  const double c0 = thread_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(probe_pass(threads));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  const double cpu = thread_seconds() - c0;
  const double total = static_cast<double>(bytes) * state.iterations();
  state.counters["wbytes"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
  state.counters["bw_frac"] = total / elapsed.count() / g_bw[threads];
  if (threads == 1) {
    state.counters["wbytes_cpu"] = total / cpu;
    state.counters["bw_frac_cpu"] = total / cpu / g_bw_cpu;
  }
}

// ---- weights ------------------------------------------------------------------------------

// The GGUF-layout matrix of one (format, shape), quantized once, and its rotation copies.
struct MatrixSet {
  TensorType type{};
  int64_t k = 0, rows = 0;
  size_t row_bytes = 0, bytes = 0, stride = 0;  // stride: bytes between copies
  std::vector<uint8_t> source;                  // one copy (quantize_row output)
  Buffer copies;                                // n_copies * stride, built on first use
  int n_copies = 0;
  bool ok = false;
  uint64_t id = 0;  // distinct per build: prepared views of an older build must not be reused
};

MatrixSet& matrix(TensorType type, int64_t k, int64_t rows) {
  static std::unique_ptr<MatrixSet> cur;  // one at a time: bounds the memory
  if (cur && cur->type == type && cur->k == k && cur->rows == rows) return *cur;
  cur.reset();
  probe_buffer().buf.reset();  // the probe benchmarks ran first; release their buffer
  cur = std::make_unique<MatrixSet>();
  MatrixSet& m = *cur;
  static uint64_t next_id = 0;
  m.id = ++next_id;
  m.type = type, m.k = k, m.rows = rows;
  const auto info = tensor_type_info(type);
  m.row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  m.bytes = m.row_bytes * rows;
  m.stride = (m.bytes + 63) / 64 * 64;
  const int64_t distinct = std::min<int64_t>(rows, 64);
  std::mt19937 rng(static_cast<uint32_t>(k * 31 + rows + static_cast<int>(type)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(distinct * k));
  for (auto& v : x) v = dist(rng);
  m.source.resize(m.bytes + 64);
  m.ok = true;
  for (int64_t r = 0; r < distinct; ++r)
    m.ok &= ref::quantize_row(type, x.data() + r * k, m.source.data() + r * m.row_bytes, k);
  for (int64_t r = distinct; r < rows; ++r)
    std::memcpy(m.source.data() + r * m.row_bytes, m.source.data() + (r % distinct) * m.row_bytes,
                m.row_bytes);
  size_t n = (g_rotation_target + m.stride - 1) / m.stride;
  n = std::max<size_t>(1, std::min(n, g_opt.max_bytes / m.stride));
  m.n_copies = static_cast<int>(n);
  return m;
}

void build_copies(MatrixSet& m) {
  if (m.copies) return;
  m.copies = alloc(m.stride * m.n_copies);
  for (int i = 0; i < m.n_copies; ++i)
    std::memcpy(m.copies.get() + i * m.stride, m.source.data(), m.bytes);
}

// How one variant is called on the rotation set.
struct Prepared {
  const MatmulVariant* v = nullptr;
  int tokens = 0;
  uint64_t matrix_id = 0;              // MatrixSet::id the views point into
  const KernelTable* table = nullptr;  // non-null: through table->matmul (the engine's path)
  std::vector<PreparedWeights> w;      // one per copy (views or owned repacks)
  int rows_per_call = 1;
};

Prepared& prepared(const MatmulVariant& v, MatrixSet& m, int tokens) {
  static std::unique_ptr<Prepared> cur;
  if (cur && cur->v == &v && cur->tokens == tokens && cur->matrix_id == m.id) return *cur;
  cur.reset();
  cur = std::make_unique<Prepared>();
  Prepared& p = *cur;
  p.v = &v;
  p.tokens = tokens;
  p.matrix_id = m.id;
  const KernelTable& table = KernelTable::get(v.isa);
  PreparedWeights first = table.prepare(m.type, m.rows, m.k, m.source.data());
  const MatmulFn chosen = first.fn;
  if (chosen == v.fn && first.repacked()) {
    // Repacked: each copy is its own owned repack of the source; no GGUF copies needed.
    p.table = &table;
    p.w.push_back(std::move(first));
    for (int i = 1; i < m.n_copies; ++i)
      p.w.push_back(table.prepare(m.type, m.rows, m.k, m.source.data()));
  } else {
    build_copies(m);
    if (chosen == v.fn) p.table = &table;
    for (int i = 0; i < m.n_copies; ++i) {
      const void* data = m.copies.get() + i * m.stride;
      PreparedWeights w = p.table ? table.prepare(m.type, m.rows, m.k, data)
                                  : table.prepare(m.type, m.rows, m.k, data, false);
      if (!p.table) {  // direct: the variant's own function on the layout it reads
        w.data = data;
        w.row_bytes = m.row_bytes;
        if (v.packed()) {  // a packed variant the table did not pick: pack the copy for it
          const size_t n = v.pack(data, m.rows, m.k, nullptr);
          const size_t alloc = (n + 63) / 64 * 64;
          std::shared_ptr<void> buf(std::aligned_alloc(64, alloc), std::free);
          v.pack(data, m.rows, m.k, buf.get());
          w.data = buf.get();
          w.row_bytes = n / static_cast<size_t>(padded_rows(m.rows, v.rows_per_call));
          w.owned = std::move(buf);
        }
        w.fn = v.fn;
        w.rows_per_call = v.rows_per_call;
      }
      p.w.push_back(std::move(w));
    }
  }
  p.rows_per_call = std::max(1, p.w[0].rows_per_call);
  return p;
}

// Y = W X over all rows, split over `threads` threads in rows_per_call-aligned chunks.
void run_matmul(const Prepared& p, const PreparedWeights& w, const void* xq, size_t x_stride,
                float* y, int tokens, int threads) {
  const int64_t g = p.rows_per_call;
  const int64_t groups = (w.rows + g - 1) / g;
  const int64_t per = (groups + threads - 1) / threads * g;
  auto part = [&](int i) {
    const int64_t b = i * per, e = std::min<int64_t>(w.rows, b + per);
    if (b >= e) return;
    MatmulArgs a{w.data, w.row_bytes, xq, x_stride, y, static_cast<size_t>(w.rows),
                 w.cols, b,           e,  tokens};
    if (p.table)
      p.table->matmul(w, a);
    else
      w.fn(a);
  };
  if (threads == 1)
    part(0);
  else
    pool(threads).run(part);
}

// Output rows spread over the matrix, first and last token, against ref::dot_row.
bool check(const MatrixSet& m, const std::vector<uint8_t>& xq, size_t x_stride,
           const std::vector<float>& y, int tokens, std::string* why) {
  const TensorType at = ref::activation_type(m.type);
  std::vector<float> wr(m.k), xr(m.k);
  for (int t : {0, tokens - 1}) {
    const uint8_t* x = xq.data() + t * x_stride;
    ref::dequantize_row(at, x, xr.data(), m.k);
    for (int i = 0; i < 16; ++i) {
      const int64_t r = (m.rows - 1) * i / 15;
      const uint8_t* wrow = m.source.data() + r * m.row_bytes;
      const float want = ref::dot_row(m.type, wrow, x, m.k);
      ref::dequantize_row(m.type, wrow, wr.data(), m.k);
      double mag = 0;
      for (int64_t j = 0; j < m.k; ++j) mag += std::fabs(wr[j] * xr[j]);
      const float got = y[t * m.rows + r];
      if (!(std::fabs(got - want) <= 1e-4 * mag + 1e-5)) {
        *why = "row " + std::to_string(r) + " token " + std::to_string(t) + ": got " +
               std::to_string(got) + ", reference " + std::to_string(want);
        return false;
      }
    }
  }
  return true;
}

void BM_matmul(benchmark::State& state, const MatmulVariant* v, int64_t k, int64_t rows, int tokens,
               int threads) {
  MatrixSet& m = matrix(v->weight, k, rows);
  if (!m.ok) {
    state.SkipWithError("reference quantizer failed");
    ++g_failures;
    return;
  }
  Prepared& p = prepared(*v, m, tokens);
  const KernelTable& table = KernelTable::get(v->isa);
  const size_t x_stride = table.activation_row_bytes(v->weight, k);
  std::vector<uint8_t> xq(x_stride * tokens + 64);
  {
    std::mt19937 rng(static_cast<uint32_t>(k + tokens));
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> xf(k);
    for (int t = 0; t < tokens; ++t) {
      for (auto& x : xf) x = dist(rng);
      table.quantize_activation(v->weight, xf.data(), xq.data() + t * x_stride, k);
    }
  }
  std::vector<float> y(static_cast<size_t>(tokens) * rows);
  size_t it = 0;
  const double c0 = thread_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    run_matmul(p, p.w[it % p.w.size()], xq.data(), x_stride, y.data(), tokens, threads);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    ++it;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  const double cpu = thread_seconds() - c0;
  std::fill(y.begin(), y.end(), std::nanf(""));
  run_matmul(p, p.w[0], xq.data(), x_stride, y.data(), tokens, threads);
  std::string why;
  if (!check(m, xq, x_stride, y, tokens, &why)) {
    state.SkipWithError(("result differs from the reference: " + why).c_str());
    ++g_failures;
    return;
  }
  const double bytes = static_cast<double>(m.bytes) * state.iterations();
  state.counters["wbytes"] = benchmark::Counter(bytes, benchmark::Counter::kIsRate);
  state.counters["bw_frac"] = bytes / elapsed.count() / g_bw[threads];
  if (threads == 1) {  // CPU-time basis: descheduling left out (see thread_seconds)
    state.counters["wbytes_cpu"] = bytes / cpu;
    state.counters["bw_frac_cpu"] = bytes / cpu / g_bw_cpu;
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(tokens) * state.iterations(),
                                               benchmark::Counter::kIsRate);
  state.counters["rot_MiB"] = static_cast<double>(m.stride * m.n_copies) / kMiB;
  state.SetLabel(std::string(tensor_type_name(v->weight)) + " " + std::string(isa_name(v->isa)) +
                 (p.table ? " prepared" : " direct") + (p.w[0].repacked() ? " repacked" : "") +
                 " copies=" + std::to_string(p.w.size()));
}

// ---- flags and registration ---------------------------------------------------------------

std::vector<int64_t> parse_list(const char* s, char sep) {
  std::vector<int64_t> out;
  while (*s) {
    char* end = nullptr;
    out.push_back(std::strtoll(s, &end, 10));
    if (end == s) break;
    s = end;
    if (*s == sep || *s == ',') ++s;
  }
  return out;
}

bool parse_flags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      const std::string p = std::string("--") + name + "=";
      return a.rfind(p, 0) == 0 ? argv[i] + p.size() : nullptr;
    };
    if (const char* s = val("nb_shapes")) {
      g_opt.shapes.clear();
      const auto v = parse_list(s, 'x');
      for (size_t j = 0; j + 1 < v.size(); j += 2) g_opt.shapes.push_back({v[j], v[j + 1]});
    } else if (const char* s = val("nb_tokens")) {
      g_opt.prefill_tokens = std::atoi(s);
    } else if (const char* s = val("nb_threads")) {
      g_opt.threads.clear();
      for (int64_t t : parse_list(s, ',')) g_opt.threads.push_back(static_cast<int>(t));
    } else if (const char* s = val("nb_max_mib")) {
      g_opt.max_bytes = std::strtoull(s, nullptr, 10) * kMiB;
    } else if (const char* s = val("nb_llc_mib")) {
      g_opt.llc_bytes = std::strtoull(s, nullptr, 10) * kMiB;
    } else if (const char* s = val("nb_probe_passes")) {
      g_opt.probe_passes = std::max(1, std::atoi(s));
    } else {
      std::fprintf(stderr, "kernels_bench: unknown flag %s\n", argv[i]);
      return false;
    }
  }
  return true;
}

void register_all() {
  for (int t : g_opt.threads)
    benchmark::RegisterBenchmark(("read_bw/thr" + std::to_string(t)).c_str(), BM_read_bw, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  // Grouped by shape, then format, so the weights are built once per (format, shape).
  const auto variants = matmul_variants();
  std::vector<TensorType> formats;
  for (const auto& v : variants)
    if (std::find(formats.begin(), formats.end(), v.weight) == formats.end())
      formats.push_back(v.weight);
  std::vector<int> token_counts = {1};
  if (g_opt.prefill_tokens > 1) token_counts.push_back(g_opt.prefill_tokens);
  for (const auto& [k, rows] : g_opt.shapes) {
    for (TensorType f : formats) {
      const auto info = tensor_type_info(f);
      if (k % info.block_size != 0) {
        std::fprintf(stderr, "kernels_bench: %s skipped at k=%lld (block of %u)\n",
                     std::string(info.name).c_str(), static_cast<long long>(k), info.block_size);
        continue;
      }
      for (const auto& v : variants) {
        if (v.weight != f || !isa_supported(v.isa)) continue;
        for (int tok : token_counts)
          for (int t : g_opt.threads) {
            const std::string name = "matmul/" + std::string(info.name) + "/" +
                                     std::string(isa_name(v.isa)) + "/" + v.name + "/k" +
                                     std::to_string(k) + "_r" + std::to_string(rows) + "/tok" +
                                     std::to_string(tok) + "/thr" + std::to_string(t);
            benchmark::RegisterBenchmark(name.c_str(), BM_matmul, &v, k, rows, tok, t)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
          }
      }
    }
  }
  for (const auto& v : variants)
    if (!isa_supported(v.isa))
      std::fprintf(stderr, "kernels_bench: %s skipped (CPU lacks %s)\n", v.name,
                   std::string(isa_name(v.isa)).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!parse_flags(argc, argv)) return 2;
  if (g_opt.threads.empty()) {
    g_opt.threads.push_back(1);
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    if (hw > 1) g_opt.threads.push_back(hw);
  }
  const size_t llc = g_opt.llc_bytes ? g_opt.llc_bytes : last_level_cache_bytes();
  g_rotation_target = std::max(2 * llc, 64 * kMiB);
  const bool capped = g_rotation_target > g_opt.max_bytes;
  g_rotation_target = std::min(g_rotation_target, g_opt.max_bytes);

  for (int t : g_opt.threads) g_bw[t] = measure_bandwidth(t, t == 1 ? &g_bw_cpu : nullptr);
  if (g_bw_cpu == 0) measure_bandwidth(1, &g_bw_cpu);
  benchmark::AddCustomContext("llc_MiB", std::to_string(llc / kMiB));
  benchmark::AddCustomContext("rotation_target_MiB", std::to_string(g_rotation_target / kMiB) +
                                                         (capped ? " (capped below 2x LLC)" : ""));
  benchmark::AddCustomContext("best_isa", std::string(isa_name(best_supported_isa())));
  for (const auto& [t, bw] : g_bw) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", bw / 1e9);
    benchmark::AddCustomContext("read_bw_GBps_thr" + std::to_string(t), buf);
  }
  {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", g_bw_cpu / 1e9);
    benchmark::AddCustomContext("read_bw_cpu_GBps_thr1", buf);
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (g_failures) std::fprintf(stderr, "kernels_bench: %d benchmark(s) failed\n", g_failures);
  return g_failures ? 1 : 0;
}
