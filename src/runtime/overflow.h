// Overflow-checked integer arithmetic in the type T of the result (uint64_t, int64_t, ...; the
// operands are converted to T): true when the exact result does not fit, *out then holds the
// wrapped value. GCC/Clang builtins where available; portable code elsewhere (MSVC).
#pragma once

#include <limits>
#include <type_traits>

#if (defined(__GNUC__) || defined(__clang__)) && !defined(NIBBLE_PORTABLE_OVERFLOW)
#define NIBBLE_OVERFLOW_BUILTINS 1
#endif

namespace nibble {
// The two implementations live in different inline namespaces, so a translation unit that
// asks for the portable one (the test) never shares a definition with the others.
#if defined(NIBBLE_OVERFLOW_BUILTINS)
inline namespace overflow_builtin {
#else
inline namespace overflow_portable {
#endif

template <typename T>
bool add_overflow(std::type_identity_t<T> a, std::type_identity_t<T> b, T* out) {
  static_assert(std::is_integral_v<T>);
#if defined(NIBBLE_OVERFLOW_BUILTINS)
  return __builtin_add_overflow(a, b, out);
#else
  using U = std::make_unsigned_t<T>;
  *out = static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  if constexpr (std::is_unsigned_v<T>) return *out < a;
  else return (b > 0 && a > std::numeric_limits<T>::max() - b) ||
              (b < 0 && a < std::numeric_limits<T>::min() - b);
#endif
}

template <typename T>
bool sub_overflow(std::type_identity_t<T> a, std::type_identity_t<T> b, T* out) {
  static_assert(std::is_integral_v<T>);
#if defined(NIBBLE_OVERFLOW_BUILTINS)
  return __builtin_sub_overflow(a, b, out);
#else
  using U = std::make_unsigned_t<T>;
  *out = static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  if constexpr (std::is_unsigned_v<T>) return b > a;
  else return (b < 0 && a > std::numeric_limits<T>::max() + b) ||
              (b > 0 && a < std::numeric_limits<T>::min() + b);
#endif
}

template <typename T>
bool mul_overflow(std::type_identity_t<T> a, std::type_identity_t<T> b, T* out) {
  static_assert(std::is_integral_v<T>);
#if defined(NIBBLE_OVERFLOW_BUILTINS)
  return __builtin_mul_overflow(a, b, out);
#else
  using U = std::make_unsigned_t<T>;
  *out = static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  if (a == 0 || b == 0) return false;
  if constexpr (std::is_unsigned_v<T>) return a > std::numeric_limits<T>::max() / b;
  else {
    if ((a == -1 && b == std::numeric_limits<T>::min()) ||
        (b == -1 && a == std::numeric_limits<T>::min()))
      return true;
    return *out / b != a;
  }
#endif
}

}  // inline namespace
}  // namespace nibble
