// nibble — logging hook. The library never prints to stdout; it logs through a handler that
// the application can replace (default: stderr via spdlog, level warn).
#pragma once

#include <functional>
#include <string_view>

namespace nibble {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

using LogHandler = std::function<void(LogLevel, std::string_view message)>;

// Replace the log handler (thread-safe). An empty handler restores the default.
void set_log_handler(LogHandler handler);
// Messages below `level` are dropped before formatting.
void set_log_level(LogLevel level);
LogLevel log_level();

}  // namespace nibble
