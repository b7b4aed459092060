// Internal logging macros: format with fmt only when the level is enabled.
#pragma once

#include <fmt/format.h>

#include <string_view>

#include "nibble/log.h"

namespace nibble::detail {
void log_message(LogLevel level, std::string_view message);
}  // namespace nibble::detail

#define NIBBLE_LOG_(lvl, ...)                                                         \
  do {                                                                                \
    if (static_cast<int>(lvl) >= static_cast<int>(::nibble::log_level()))             \
      ::nibble::detail::log_message(lvl, ::fmt::format(__VA_ARGS__));                 \
  } while (0)
#define NIBBLE_LOG_DEBUG(...) NIBBLE_LOG_(::nibble::LogLevel::debug, __VA_ARGS__)
#define NIBBLE_LOG_INFO(...) NIBBLE_LOG_(::nibble::LogLevel::info, __VA_ARGS__)
#define NIBBLE_LOG_WARN(...) NIBBLE_LOG_(::nibble::LogLevel::warn, __VA_ARGS__)
#define NIBBLE_LOG_ERROR(...) NIBBLE_LOG_(::nibble::LogLevel::error, __VA_ARGS__)
