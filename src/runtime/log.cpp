#include "runtime/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace nibble {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::warn)};
std::mutex g_mutex;
LogHandler g_handler;  // guarded by g_mutex

spdlog::logger& default_logger() {
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("nibble");
    l->set_pattern("[nibble %l] %v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
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
  static constexpr spdlog::level::level_enum kMap[] = {spdlog::level::debug, spdlog::level::info,
                                                        spdlog::level::warn, spdlog::level::err,
                                                        spdlog::level::off};
  default_logger().log(kMap[static_cast<int>(level)], "{}", message);
}
}  // namespace detail

}  // namespace nibble
