// nibble — logging hook. The library never prints to stdout; it logs through a handler that
// the application can replace (default: one line per message on stderr, level warn).
#pragma once

#include <functional>
#include <string_view>

#include "nibble/export.h"

namespace nibble {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

using LogHandler = std::function<void(LogLevel, std::string_view message)>;

// Replace the log handler (thread-safe). An empty handler restores the default.
NIBBLE_API void set_log_handler(LogHandler handler);
// Messages below `level` are dropped before formatting.
NIBBLE_API void set_log_level(LogLevel level);
NIBBLE_API LogLevel log_level();

}  // namespace nibble
