// Progress and statistics output shared by `nibble quantize` and `nibble forge`: a progress bar
// redrawn in place when stderr is a terminal, one plain line per tensor otherwise (logs, CI).
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "quant/writer.h"

namespace nibble::cli {

class QuantProgress {
 public:
  QuantProgress(std::string tool, bool quiet)
      : tool_(std::move(tool)), quiet_(quiet), tty_(::isatty(2) == 1),
        start_(std::chrono::steady_clock::now()) {}

  void operator()(const quant::Progress& p) {
    if (quiet_) return;
    const quant::PlannedTensor& t = *p.tensor;
    if (!tty_) {
      if (!p.tensor_done) return;  // one line per finished tensor
      fmt::print(stderr, "[{:>4}/{}] {:<36} {:>7} {:<22}{}{}\n", p.index + 1, p.count, t.name,
                 tensor_type_name(t.type), shape(t), t.raw.empty() ? "" : " (copied)",
                 t.note.empty() ? "" : "  note: " + t.note);
      return;
    }
    if (p.tensor_done && !t.note.empty()) {  // notes stay visible above the bar
      fmt::print(stderr, "\r\033[K{}: {}: {}\n", tool_, t.name, t.note);
    }
    const double frac = p.bytes_total ? double(p.bytes_done) / double(p.bytes_total) : 1.0;
    const int width = 30, fill = static_cast<int>(frac * width + 0.5);
    fmt::print(stderr, "\r\033[K[{}{}] {:5.1f}% {:>4}/{} {} {}", std::string(fill, '#'),
               std::string(width - fill, '.'), 100 * frac, p.index + 1, p.count, t.name,
               tensor_type_name(t.type));
    std::fflush(stderr);
  }

  // Ends the bar line; prints the summary.
  void finish(uint64_t bytes, size_t n_tensors) {
    if (quiet_) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (tty_) fmt::print(stderr, "\r\033[K");
    fmt::print(stderr, "{}: wrote {} tensors, {:.1f} MiB in {:.2f} s\n", tool_, n_tensors,
               bytes / 1048576.0, s);
  }

  static std::string shape(const quant::PlannedTensor& t) {
    std::string s = "[";
    for (size_t i = 0; i < t.ne.size(); ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
    return s + "]";
  }

 private:
  std::string tool_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
};

// `--stats` table on stdout: per quantized tensor RMSE, max |error| and RMSE relative to the
// tensor's RMS; then the element-weighted totals.
inline void print_quant_stats(const std::vector<quant::TensorStats>& stats) {
  fmt::print("{:<40} {:>7} {:>12} {:>12} {:>9}\n", "tensor", "type", "rmse", "max_err",
             "rel_rmse");
  double sse = 0, ss = 0, mx = 0;
  uint64_t n = 0;
  for (const auto& s : stats) {
    if (s.n == 0) continue;
    fmt::print("{:<40} {:>7} {:>12.4e} {:>12.4e} {:>9.5f}\n", s.name, tensor_type_name(s.type),
               s.rmse, s.max_err, s.rms > 0 ? s.rmse / s.rms : 0.0);
    sse += s.rmse * s.rmse * double(s.n);
    ss += s.rms * s.rms * double(s.n);
    mx = std::max(mx, s.max_err);
    n += s.n;
  }
  if (n)
    fmt::print("{:<40} {:>7} {:>12.4e} {:>12.4e} {:>9.5f}\n", "total", "", std::sqrt(sse / n), mx,
               ss > 0 ? std::sqrt(sse / ss) : 0.0);
}

}  // namespace nibble::cli
