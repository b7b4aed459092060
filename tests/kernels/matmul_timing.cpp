// Ad-hoc timing of every registered matmul variant of one weight format (not a test, not a
// Google Benchmark: it must build in the kernels-only and cross builds too).
//
//   matmul_timing <format> <rows> <k> <tokens> <threads> [reps] [matrices]
//
// Weights: `matrices` random matrices (default: enough for > 600 MiB, twice this machine's
// 300 MiB L3) prepared per variant exactly as KernelTable::prepare would (packed variants
// through their pack function), visited in rotation so every call reads its weights from
// memory. Each rep times one full rotation per variant (variants interleaved); the report is
// the median per-matrix time over reps, the weight bytes read per second, and the median
// over reps of the time ratio to the format's first non-reference plain (GGUF-layout) variant
// (speedup > 1: faster than it). Threads: a spinning pool splitting the rows at multiples of
// rows_per_call, like the graph executor (spin-yield waits: this machine's 2 cores are shared,
// so 2-thread figures are at the mercy of the other load).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"

using namespace nibble;
using namespace nibble::kernels;

namespace {

struct Pool {
  explicit Pool(int n) : n_(n) {
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    stop_ = true;
    gen_.fetch_add(1);
    for (auto& t : workers_) t.join();
  }
  template <typename F>
  void run(F f) {
    job_ = f;
    done_.store(0);
    gen_.fetch_add(1, std::memory_order_release);
    job_(0);
    while (done_.load(std::memory_order_acquire) != n_ - 1) std::this_thread::yield();
  }
  int size() const { return n_; }

 private:
  void loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      while ((g = gen_.load(std::memory_order_acquire)) == seen) std::this_thread::yield();
      seen = g;
      if (stop_) return;
      job_(i);
      done_.fetch_add(1, std::memory_order_release);
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::function<void(int)> job_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
};

bool parse_type(const std::string& s, TensorType* t) {
  for (uint32_t id = 0; id <= kMaxTensorTypeId; ++id) {
    const auto info = tensor_type_info(id);
    if (!info.name.empty() && s == info.name) {
      *t = static_cast<TensorType>(id);
      return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s <format> <rows> <k> <tokens> <threads> [reps] [matrices]\n",
                 argv[0]);
    return 2;
  }
  TensorType wt;
  if (!parse_type(argv[1], &wt)) {
    std::fprintf(stderr, "unknown format %s\n", argv[1]);
    return 2;
  }
  const int64_t rows = std::atoll(argv[2]), k = std::atoll(argv[3]);
  const int n_tokens = std::atoi(argv[4]), n_threads = std::atoi(argv[5]);
  const int reps = argc > 6 ? std::atoi(argv[6]) : 7;
  const auto info = tensor_type_info(wt);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  const size_t mat_bytes = row_bytes * rows;
  const int n_mat = argc > 7 ? std::atoi(argv[7])
                             : static_cast<int>(std::max<size_t>(2, (600u << 20) / mat_bytes + 1));

  // One GGUF matrix, quantized once, copied n_mat times (the copies are distinct memory).
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(rows * k));
  for (auto& v : wf) v = dist(rng);
  std::vector<uint8_t> w(mat_bytes);
  ref::quantize_row(wt, wf.data(), w.data(), rows * k);
  wf.clear();
  wf.shrink_to_fit();
  const TensorType at = ref::activation_type(wt);
  const auto ainfo = tensor_type_info(at);
  const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
  std::vector<float> xf(static_cast<size_t>(k) * n_tokens);
  for (auto& v : xf) v = dist(rng);
  std::vector<uint8_t> xq(x_stride * n_tokens);
  for (int t = 0; t < n_tokens; ++t)
    ref::quantize_row(at, xf.data() + t * k, xq.data() + t * x_stride, k);
  std::vector<float> y(static_cast<size_t>(rows) * n_tokens);

  Pool pool(n_threads);
  std::printf("%s rows=%lld k=%lld tokens=%d threads=%d matrices=%d (%.0f MiB) reps=%d\n",
              std::string(info.name).c_str(), static_cast<long long>(rows),
              static_cast<long long>(k), n_tokens, n_threads, n_mat, n_mat * mat_bytes / 1048576.0,
              reps);
  struct Run {
    const MatmulVariant* v;
    size_t bytes, w_row;
    std::vector<void*> mats;
    std::vector<double> ns;
  };
  std::vector<Run> runs;
  for (const MatmulVariant& v : matmul_variants()) {
    if (v.weight != wt || !isa_supported(v.isa)) continue;
    if (v.isa == Isa::scalar && rows * k > (1 << 22)) continue;  // the reference is too slow
    Run run{&v, mat_bytes, row_bytes, std::vector<void*>(n_mat), {}};
    for (int m = 0; m < n_mat; ++m) {
      if (v.packed()) {
        run.bytes = v.pack(w.data(), rows, k, nullptr);
        run.mats[m] = ::operator new((run.bytes + 63) / 64 * 64, std::align_val_t(64));
        v.pack(w.data(), rows, k, run.mats[m]);
        run.w_row = run.bytes / padded_rows(rows, v.rows_per_call);
      } else {
        run.mats[m] = ::operator new((run.bytes + 63) / 64 * 64, std::align_val_t(64));
        std::memcpy(run.mats[m], w.data(), run.bytes);
      }
    }
    runs.push_back(std::move(run));
  }
  auto call = [&](const Run& run, int m) {
    const MatmulVariant& v = *run.v;
    pool.run([&, m](int tid) {
      const int64_t g = v.rows_per_call, groups = (rows + g - 1) / g;
      const int64_t b = std::min(rows, groups * tid / pool.size() * g);
      const int64_t e = std::min(rows, groups * (tid + 1) / pool.size() * g);
      if (b >= e) return;
      MatmulArgs a{run.mats[m], run.w_row, xq.data(), x_stride, y.data(), static_cast<size_t>(rows),
                   k,           b,         e,         n_tokens};
      v.fn(a);
    });
  };
  for (const Run& run : runs)
    for (int m = 0; m < n_mat; ++m) call(run, m);  // warm-up (page faults)
  // Reps interleave the variants, so a burst of load on this shared machine hits all alike.
  for (int r = 0; r < reps; ++r) {
    for (Run& run : runs) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int m = 0; m < n_mat; ++m) call(run, m);
      const auto t1 = std::chrono::steady_clock::now();
      run.ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / n_mat);
    }
  }
  const Run* base = nullptr;
  for (const Run& run : runs)
    if (!base && !run.v->packed() && run.v->isa != Isa::scalar) base = &run;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  for (const Run& run : runs) {
    const double med = median(run.ns);
    // Per-rep ratio to the plain variant (same rep, adjacent in time), then its median.
    std::vector<double> ratio;
    for (int r = 0; r < reps && base; ++r) ratio.push_back(base->ns[r] / run.ns[r]);
    const auto [mn, mx] = std::minmax_element(run.ns.begin(), run.ns.end());
    std::printf("  %-34s %9.1f us (min %9.1f max %9.1f) %6.2f GB/s  speedup x%.2f  [%s]\n",
                run.v->name, med / 1e3, *mn / 1e3, *mx / 1e3, run.bytes / med,
                base ? median(ratio) : 0.0, run.v->layout ? run.v->layout : "gguf");
    for (void* p : run.mats) ::operator delete(p, std::align_val_t(64));
  }
  return 0;
}
