#include "runtime/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace nibble {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::warn)};
std::mutex g_mutex;
LogHandler g_handler;  // guarded by g_mutex

// The default handler: one line per message on stderr, "[nibble warn] message".
void write_stderr(LogLevel level, std::string_view message) {
  static constexpr const char* kName[] = {"debug", "info", "warn", "error", "off"};
  std::fprintf(stderr, "[nibble %s] %.*s\n", kName[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
}

}  // namespace

void set_log_handler(LogHandler handler) {
  std::lock_guard lock(g_mutex);
  g_handler = std::move(handler);
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

namespace detail {
void log_message(LogLevel level, std::string_view message) {
  std::lock_guard lock(g_mutex);
  if (g_handler) {
    g_handler(level, message);
    return;
  }
  write_stderr(level, message);
}
}  // namespace detail

}  // namespace nibble
