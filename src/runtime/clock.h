// Local calendar time, the one C library call that differs between POSIX (localtime_r) and
// Windows (localtime_s); both are thread-safe, std::localtime is not.
#pragma once

#include <ctime>

namespace nibble {

inline std::tm local_time(std::time_t t) {
  std::tm tm{};
#if defined(_WIN32)
  localtime_s(&tm, &t);
#else
  localtime_r(&t, &tm);
#endif
  return tm;
}

}  // namespace nibble
