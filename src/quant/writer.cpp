// write_model: layout first (offsets from the output types), header through gguf::Writer with
// raw tensor-info entries, then the data in slabs of rows that worker threads fill, quantize
// and (with stats) decode again. Threads claim chunks of rows from an atomic counter, so a
// descheduled thread delays only its own chunk.
#include "quant/writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "kernels/ref/ref.h"
#include "quant/row.h"

namespace nibble::quant {
namespace {

// The temporary file to remove when a signal ends the process mid-write. A fixed buffer:
// the handler may only call async-signal-safe functions (unlink, signal, raise).
char g_temp_path[4096];
volatile std::sig_atomic_t g_temp_active = 0;

extern "C" void remove_temp_and_die(int sig) {
  if (g_temp_active) ::unlink(g_temp_path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Installs the handler for the lifetime of a write; restores the previous handlers after.
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path) {
    std::snprintf(g_temp_path, sizeof(g_temp_path), "%s", path.c_str());
    g_temp_active = 1;
    for (int i = 0; i < kN; ++i) old_[i] = std::signal(kSignals[i], remove_temp_and_die);
  }
  ~TempFileGuard() {
    for (int i = 0; i < kN; ++i) std::signal(kSignals[i], old_[i]);
    if (g_temp_active) ::unlink(g_temp_path);  // not committed: an error path
    g_temp_active = 0;
  }
  void committed() { g_temp_active = 0; }

 private:
#ifdef SIGHUP
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
#else  // Windows
  static constexpr int kSignals[] = {SIGINT, SIGTERM};
#endif
  static constexpr int kN = sizeof(kSignals) / sizeof(kSignals[0]);
  void (*old_[kN])(int);
};

struct Accum {
  double sum_sq_err = 0, sum_sq = 0, max_err = 0;
  uint64_t n = 0;
  void add(const Accum& o) {
    sum_sq_err += o.sum_sq_err;
    sum_sq += o.sum_sq;
    max_err = std::max(max_err, o.max_err);
    n += o.n;
  }
};

// Fills, quantizes (and measures) rows [row0, row0 + n_rows) of `t` into `out`.
Status produce_slab(const PlannedTensor& t, int64_t row0, int64_t n_rows, uint8_t* out,
                    int n_threads, bool stats, bool reference, Accum* acc) {
  auto quantize = reference ? quantize_row_simple : quantize_row;
  const int64_t cols = static_cast<int64_t>(t.ne[0]);
  const uint64_t rb = row_bytes(t.type, t.ne[0]);
  const int64_t chunk = std::max<int64_t>(1, 65536 / std::max<int64_t>(cols, 1));
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  auto work = [&]() {
    std::vector<float> x(static_cast<size_t>(chunk * cols)), y;
    if (stats) y.resize(x.size());
    Accum local;
    for (;;) {
      const int64_t r = next.fetch_add(chunk);
      if (r >= n_rows || failed) break;
      const int64_t nr = std::min(chunk, n_rows - r);
      t.rows(row0 + r, nr, x.data());
      uint8_t* dst = out + static_cast<uint64_t>(r) * rb;
      for (int64_t i = 0; i < nr; ++i) {
        if (!quantize(t.type, x.data() + i * cols, dst + i * rb, cols)) {
          failed = true;
          return;
        }
      }
      if (stats && kernels::ref::dequantize_row(t.type, dst, y.data(), nr * cols)) {
        for (int64_t i = 0; i < nr * cols; ++i) {
          const double e = std::fabs(double(y[i]) - x[i]);
          local.sum_sq_err += e * e;
          local.sum_sq += double(x[i]) * x[i];
          local.max_err = std::max(local.max_err, e);
        }
        local.n += static_cast<uint64_t>(nr * cols);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    acc->add(local);
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < n_threads; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (failed)
    return Error(ErrorCode::invalid_argument,
                 fmt::format("tensor '{}': no quantizer for type {}", t.name,
                             tensor_type_name(t.type)));
  return ok_status();
}

bool write_all(std::FILE* f, const uint8_t* p, uint64_t n) {
  return n == 0 || std::fwrite(p, 1, n, f) == n;
}

}  // namespace

uint64_t tensor_bytes(TensorType type, const std::vector<uint64_t>& ne) {
  const TensorTypeInfo ti = tensor_type_info(type);
  if (ne.empty() || ti.block_size == 0 || ne[0] % ti.block_size != 0) return 0;
  uint64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  return rows * (ne[0] / ti.block_size) * ti.type_size;
}

Status write_model(const gguf::Writer& meta, const std::vector<PlannedTensor>& tensors,
                   const std::string& path, const WriteOptions& options,
                   std::vector<TensorStats>* stats) {
  const uint64_t align = options.alignment ? options.alignment : 32;
  gguf::Writer w = meta;
  uint64_t offset = 0, total = 0;
  for (const PlannedTensor& t : tensors) {
    const uint64_t n = tensor_bytes(t.type, t.ne);
    if (n == 0)
      return Error(ErrorCode::bad_block_multiple,
                   fmt::format("tensor '{}': row length {} does not fit type {}", t.name,
                               t.ne.empty() ? 0 : t.ne[0], tensor_type_name(t.type)));
    if (!t.raw.empty() && t.raw.size() != n)
      return Error(ErrorCode::internal, fmt::format("tensor '{}': raw size mismatch", t.name));
    w.add_raw_tensor_info(t.name, static_cast<uint32_t>(t.type), t.ne, offset);
    offset += n + (align - n % align) % align;
    total += n;
  }
  const std::vector<uint8_t> header = w.to_bytes();

  const std::string temp = fmt::format("{}.tmp{}", path, ::getpid());
  TempFileGuard guard(temp);
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f)
    return Error(ErrorCode::io_error,
                 fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  auto fail = [&](Error e) {
    std::fclose(f);
    return e;
  };
  auto io_fail = [&]() {
    return fail(Error(ErrorCode::io_error,
                      fmt::format("{}: write failed: {}", temp, std::strerror(errno))));
  };
  if (!write_all(f, header.data(), header.size())) return io_fail();

  int n_threads = options.n_threads > 0 ? options.n_threads
                                        : static_cast<int>(std::thread::hardware_concurrency());
  n_threads = std::clamp(n_threads, 1, 256);
  constexpr uint64_t kSlabBytes = 64ull << 20;
  const std::vector<uint8_t> zeros(align, 0);
  std::vector<uint8_t> slab;
  uint64_t done = 0;
  if (stats) stats->clear();
  for (size_t ti = 0; ti < tensors.size(); ++ti) {
    const PlannedTensor& t = tensors[ti];
    Progress p{ti, tensors.size(), &t, done, total, false};
    if (options.progress) options.progress(p);
    const uint64_t n = tensor_bytes(t.type, t.ne);
    TensorStats ts{t.name, t.type};
    if (!t.raw.empty()) {
      if (!write_all(f, t.raw.data(), n)) return io_fail();
      done += n;
    } else {
      if (!t.rows) return fail(Error(ErrorCode::internal, "tensor '" + t.name + "': no source"));
      const uint64_t rb = row_bytes(t.type, t.ne[0]);
      const int64_t rows = static_cast<int64_t>(n / rb);
      const int64_t slab_rows = std::max<int64_t>(1, static_cast<int64_t>(kSlabBytes / rb));
      Accum acc;
      for (int64_t r = 0; r < rows; r += slab_rows) {
        const int64_t nr = std::min(slab_rows, rows - r);
        slab.resize(static_cast<size_t>(nr) * rb);
        if (auto st = produce_slab(t, r, nr, slab.data(), n_threads, options.stats,
                                         options.reference_quantizers, &acc);
            !st.ok())
          return fail(std::move(st).error());
        if (!write_all(f, slab.data(), slab.size())) return io_fail();
        done += slab.size();
        if (options.progress && r + nr < rows) {
          p.bytes_done = done;
          options.progress(p);
        }
      }
      if (acc.n) {
        ts.n = acc.n;
        ts.rmse = std::sqrt(acc.sum_sq_err / acc.n);
        ts.rms = std::sqrt(acc.sum_sq / acc.n);
        ts.max_err = acc.max_err;
      }
    }
    if (!write_all(f, zeros.data(), (align - n % align) % align)) return io_fail();
    if (stats) stats->push_back(ts);
    p.bytes_done = done;
    p.tensor_done = true;
    if (options.progress) options.progress(p);
  }
  if (std::fflush(f) != 0 || std::ferror(f)) return io_fail();
  if (std::fclose(f) != 0)
    return Error(ErrorCode::io_error, fmt::format("{}: write failed", temp));
  // std::filesystem::rename replaces an existing file on Windows too (std::rename does not).
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec)
    return Error(ErrorCode::io_error,
                 fmt::format("{}: cannot rename {} to it: {}", path, temp, ec.message()));
  guard.committed();
  return ok_status();
}

}  // namespace nibble::quant
