// Read-bandwidth probe, peak RSS and contention processes for `nibble bench` (bench_probe.h).
// The probe follows the idea of benchmarks/kernels_bench.cpp's read_bw (streaming SIMD sums
// over a buffer larger than the cache, per thread count, median of passes) on the engine's
// thread pool, so decode and probe run on the same threads.
#include "bench_probe.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#ifndef NOMINMAX
#define NOMINMAX
#endif
#define PSAPI_VERSION 2  // K32GetProcessMemoryInfo from kernel32, no psapi import library
#include <windows.h>
#include <psapi.h>
#else
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "kernels/dispatch/read_probe.h"
#include "kernels/kernels.h"
#include "runtime/cpu_topology.h"
#include "runtime/thread_pool.h"

namespace nibble::cli::bench {
namespace {



#if defined(_WIN32)
void* aligned_buffer(size_t bytes) { return _aligned_malloc(bytes, 4096); }
void free_buffer(void* p) { _aligned_free(p); }
#else
void* aligned_buffer(size_t bytes) { return std::aligned_alloc(4096, bytes); }
void free_buffer(void* p) { std::free(p); }

// Children of the running Contention, for the signal handler (async-signal-safe reads only).
constexpr int kMaxChildren = 1024;
volatile sig_atomic_t g_children[kMaxChildren];
std::atomic<int> g_n_children{0};
struct sigaction g_old_actions[3];
constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};

void on_signal(int sig) {
  const int n = g_n_children.load();
  for (int i = 0; i < n; ++i)
    if (g_children[i] > 0) kill(static_cast<pid_t>(g_children[i]), SIGKILL);
  for (int i = 0; i < 3; ++i)
    if (kSignals[i] == sig) sigaction(sig, &g_old_actions[i], nullptr);
  raise(sig);
}

#endif

}  // namespace

double measure_read_bandwidth(int threads, size_t bytes, int passes) {
  threads = std::max(threads, 1);
  bytes = bytes / 4096 * 4096;
  auto* buf = static_cast<uint8_t*>(aligned_buffer(std::max<size_t>(bytes, 4096)));
  if (!buf) return 0;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {  // non-zero, non-constant contents
    const uint64_t v = i * 0x9E3779B97F4A7C15ull;
    std::memcpy(buf + i, &v, 8);
  }
  const size_t share = bytes / threads / 128 * 128;
  ThreadPool pool(threads);
  std::vector<uint64_t> sums(threads);
  volatile uint64_t sink = 0;
  auto pass = [&] {
    pool.run([&](int i) { sums[i] = kernels::read_sum(buf + i * share, share); });
    for (uint64_t v : sums) sink = sink + v;
  };
  pass();  // warm-up: pages, pool threads
  std::vector<double> rates;
  for (int p = 0; p < std::max(passes, 1); ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    pass();
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    rates.push_back(static_cast<double>(share * threads) / std::max(dt.count(), 1e-9));
  }
  free_buffer(buf);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

size_t default_probe_bytes() {
  const size_t mib = size_t{1} << 20;
  return std::clamp(8 * last_level_cache_bytes(), 256 * mib, 1024 * mib);
}

double peak_rss_bytes() {
#if defined(_WIN32)
  PROCESS_MEMORY_COUNTERS pmc{};
  pmc.cb = sizeof pmc;
  if (K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return static_cast<double>(pmc.PeakWorkingSetSize);
  return 0;
#else
#if defined(__linux__)
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) * 1024.0;
#endif
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
#if defined(__APPLE__)
  return static_cast<double>(ru.ru_maxrss);  // bytes
#else
  return static_cast<double>(ru.ru_maxrss) * 1024.0;  // KiB
#endif
#endif
}

void reset_peak_rss() {
#if defined(__GLIBC__)
  malloc_trim(0);  // hand freed heap (an earlier model's repacked weights) back first
#endif
#if defined(__linux__)
  std::ofstream out("/proc/self/clear_refs");
  out << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
#endif
}

#if defined(_WIN32)
// Windows: the competitors are this program started again as `nibble bench
// --contention-child` (which spins), in a job object that kills them when the job handle
// closes: at stop() or when this process ends in any way (Ctrl-C included).
bool Contention::start(int k) {
  stop();
  if (k <= 0) return true;
  wchar_t exe[32768];
  const DWORD n = GetModuleFileNameW(nullptr, exe, 32768);
  if (n == 0 || n >= 32768) return false;
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  if (!job) return false;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim{};
  lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  SetInformationJobObject(job, JobObjectExtendedLimitInformation, &lim, sizeof lim);
  job_ = job;
  std::wstring cmd = L"\"" + std::wstring(exe, n) + L"\" bench --contention-child";
  for (int i = 0; i < k; ++i) {
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    std::wstring line = cmd;
    if (!CreateProcessW(nullptr, line.data(), nullptr, nullptr, FALSE, CREATE_SUSPENDED, nullptr,
                        nullptr, &si, &pi)) {
      stop();
      return false;
    }
    AssignProcessToJobObject(job, pi.hProcess);
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    pids_.push_back(static_cast<pid_t>(pi.dwProcessId));
  }
  return true;
}

void Contention::stop() {
  if (job_) {
    TerminateJobObject(static_cast<HANDLE>(job_), 1);
    CloseHandle(static_cast<HANDLE>(job_));
    job_ = nullptr;
  }
  pids_.clear();
}

void spin_forever() {
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
}
#else
bool Contention::start(int k) {
  stop();
  k = std::min(k, kMaxChildren);
  if (k <= 0) return true;
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_old_actions[i]);
  installed_ = true;
  const pid_t parent = getpid();
  for (int i = 0; i < k; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      stop();
      return false;
    }
    if (pid == 0) {
#if defined(__linux__)
      prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
      if (getppid() != parent) _exit(0);  // the parent died before prctl took effect
      for (const int s : kSignals) signal(s, SIG_DFL);
      volatile uint64_t x = 0;
      for (;;) x = x + 1;  // busy loop until killed
    }
    g_children[i] = pid;
    pids_.push_back(pid);
    g_n_children.store(i + 1);
  }
  return true;
}

void Contention::stop() {
  for (pid_t p : pids_) kill(p, SIGKILL);
  for (pid_t p : pids_) waitpid(p, nullptr, 0);
  g_n_children.store(0);
  for (auto& c : g_children) c = 0;
  if (installed_)
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &g_old_actions[i], nullptr);
  installed_ = false;
  pids_.clear();
}

void spin_forever() {
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
}
#endif  // _WIN32

// Deterministic synthetic token ids in [0, n_vocab) (what the model sees does not change the
// work a forward pass does).
std::vector<Token> synthetic_tokens(int n, int n_vocab, uint64_t seed) {
  std::vector<Token> t(static_cast<size_t>(n));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& v : t) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = static_cast<Token>(x % static_cast<uint64_t>(n_vocab));
  }
  return t;
}

}  // namespace nibble::cli::bench

