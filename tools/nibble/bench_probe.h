// `nibble bench` helpers: the read-bandwidth probe that decode speed is compared against, peak
// resident memory, and the busy-looping competitor processes of --contention.
#pragma once

#if !defined(_WIN32)
#include <sys/types.h>
#endif

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nibble/tokenizer.h"

namespace nibble::cli::bench {

#if defined(_WIN32)
using pid_t = int64_t;  // process id (a DWORD)
#else
using pid_t = ::pid_t;
#endif

// Read bandwidth in bytes/s with `threads` threads: a streaming SIMD read (sums of 32-byte
// loads on AVX2, 16-byte otherwise, so it cannot be optimised away) over a buffer of `bytes`
// (rounded down to 4 KiB) that each thread reads its contiguous share of; the median of
// `passes` timed passes after one warm-up pass. The buffer is freed before returning.
// Returns 0 when the buffer cannot be allocated.
double measure_read_bandwidth(int threads, size_t bytes, int passes);

// Default probe size: 8x the last-level cache, at least 256 MiB and at most 1 GiB, so the
// probe reads from memory as decode does (weights of every model worth benchmarking exceed
// the cache).
size_t default_probe_bytes();

// Peak resident set size of this process in bytes since the last reset_peak_rss() (Linux
// VmHWM; ru_maxrss elsewhere, which cannot be reset).
double peak_rss_bytes();
void reset_peak_rss();

// K busy-looping child processes. POSIX: start() forks them (each dies with its parent: Linux
// PR_SET_PDEATHSIG); stop() kills and reaps them; SIGINT/SIGTERM/SIGHUP kill them too before
// the signal's default action ends this process. Windows: this program is started K times as
// `nibble bench --contention-child` inside a job object that kills them when it closes (at
// stop() or when this process ends). The destructor stops them.
class Contention {
 public:
  Contention() = default;
  Contention(const Contention&) = delete;
  Contention& operator=(const Contention&) = delete;
  ~Contention() { stop(); }
  bool start(int k);  // false (and none left running) when a fork fails
  void stop();
  int size() const { return static_cast<int>(pids_.size()); }

 private:
  std::vector<pid_t> pids_;
  bool installed_ = false;  // signal handlers installed (POSIX)
  void* job_ = nullptr;     // job object handle (Windows)
};

// The body of a Windows competitor process (`nibble bench --contention-child`): never returns.
[[noreturn]] void spin_forever();

// Deterministic synthetic token ids in [0, n_vocab) (what the model sees does not change the
// work a forward pass does).
std::vector<Token> synthetic_tokens(int n, int n_vocab, uint64_t seed);

}  // namespace nibble::cli::bench
