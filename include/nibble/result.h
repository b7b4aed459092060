// nibble — error type and Result<T>.
//
// Every fallible operation in nibble returns Result<T> (or Status = Result<void>). No exception
// crosses the public API. An Error carries a code (for programs) and a message that names the
// key, tensor, byte offset or option that was wrong (for people).
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "nibble/export.h"

namespace nibble {

enum class ErrorCode : uint16_t {
  ok = 0,
  // file / GGUF
  io_error,                 // open/stat/mmap/read failed
  not_gguf,                 // wrong magic
  unsupported_version,      // GGUF version other than 2 or 3
  truncated,                // the file ends before a field it declares
  too_many_items,           // tensor or key count larger than the file could hold
  string_out_of_bounds,     // string length runs past the end of the file
  array_out_of_bounds,      // array length runs past the end of the file
  unknown_value_type,       // metadata value type not in the GGUF spec
  duplicate_key,            // the same metadata key twice
  duplicate_tensor,         // the same tensor name twice
  bad_alignment,            // general.alignment of the wrong type, zero, or not a power of two
  too_many_dims,            // more than 4 dimensions
  bad_dimension,            // zero or negative dimension
  element_count_overflow,   // product of dimensions (or byte size) overflows
  bad_block_multiple,       // first dimension not a multiple of the type's block size
  unknown_tensor_type,      // tensor type id not known at all
  misaligned_tensor,        // tensor offset not a multiple of the alignment
  tensor_out_of_bounds,     // tensor data outside the file
  overlapping_tensors,      // two tensors share bytes
  corrupt_metadata,         // metadata present but malformed for its use
  type_mismatch,            // typed getter asked for another type than the file holds
  missing_key,              // metadata key absent
  // model
  unsupported_tensor_type,  // known type that nibble cannot compute (yet)
  unsupported_architecture,
  missing_tensor,
  shape_mismatch,
  // tokenizer / templates
  unsupported_tokenizer,
  template_error,
  // runtime
  out_of_memory,
  context_full,
  invalid_argument,
  cancelled,
  internal,
  // API (added in 0.1; values are stable, new codes are appended)
  callback_failed,          // an exception escaped a callback of the application
  state_mismatch,           // saved session state from another model, KV type or format
};

// Stable lower-case name of a code, e.g. "tensor_out_of_bounds".
NIBBLE_API std::string_view error_code_name(ErrorCode code) noexcept;

class NIBBLE_API Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "<code name>: <message>"
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
};

namespace detail {
// Called when value() / operator-> / operator* is used on a Result that holds an error: a
// usage error in the calling program. Prints "nibble: <what> on an error result: <error>" on
// stderr, then aborts (with or without exceptions enabled). Check ok() first or use value_or().
[[noreturn]] NIBBLE_API void bad_result_access(const Error& error, const char* what) noexcept;
// Called when error() is used on a Result that holds a value.
[[noreturn]] NIBBLE_API void bad_error_access(const char* what) noexcept;
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // The value. Precondition: ok(); on an error result these report the error and abort
  // (detail::bad_result_access), they never throw.
  T& value() & { return *checked("Result::value()"); }
  const T& value() const& { return *checked("Result::value()"); }
  T&& value() && { return std::move(*checked("Result::value()")); }
  T* operator->() { return checked("Result::operator->"); }
  const T* operator->() const { return checked("Result::operator->"); }
  T& operator*() & { return *checked("Result::operator*"); }
  const T& operator*() const& { return *checked("Result::operator*"); }
  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? *std::get_if<0>(&v_) : std::move(fallback); }
  T value_or(T fallback) && { return ok() ? std::move(*std::get_if<0>(&v_)) : std::move(fallback); }

  // The error. Precondition: !ok() (otherwise reported and aborted like value()).
  const Error& error() const& { return *checked_error(); }
  Error&& error() && { return std::move(*checked_error()); }

 private:
  T* checked(const char* what) {
    if (T* p = std::get_if<0>(&v_)) return p;
    detail::bad_result_access(*std::get_if<1>(&v_), what);
  }
  const T* checked(const char* what) const {
    if (const T* p = std::get_if<0>(&v_)) return p;
    detail::bad_result_access(*std::get_if<1>(&v_), what);
  }
  Error* checked_error() {
    if (Error* e = std::get_if<1>(&v_)) return e;
    detail::bad_error_access("Result::error()");
  }
  const Error* checked_error() const {
    if (const Error* e = std::get_if<1>(&v_)) return e;
    detail::bad_error_access("Result::error()");
  }

  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), has_err_(true) {}  // NOLINT

  bool ok() const noexcept { return !has_err_; }
  explicit operator bool() const noexcept { return ok(); }
  // Precondition: !ok() (otherwise reported and aborted, see Result<T>::error()).
  const Error& error() const& {
    if (!has_err_) detail::bad_error_access("Status::error()");
    return err_;
  }
  Error&& error() && {
    if (!has_err_) detail::bad_error_access("Status::error()");
    return std::move(err_);
  }

 private:
  Error err_{ErrorCode::ok, {}};
  bool has_err_ = false;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace nibble

// Propagate an error from an expression returning Result<...>/Status.
#define NIBBLE_TRY(expr)                                   \
  do {                                                     \
    auto nibble_try_r_ = (expr);                           \
    if (!nibble_try_r_.ok()) return std::move(nibble_try_r_).error(); \
  } while (0)

#define NIBBLE_CONCAT_INNER_(a, b) a##b
#define NIBBLE_CONCAT_(a, b) NIBBLE_CONCAT_INNER_(a, b)
// NIBBLE_ASSIGN_OR_RETURN(auto x, make_x()); — declares x from a Result or returns its error.
#define NIBBLE_ASSIGN_OR_RETURN(decl, expr)                                   \
  auto NIBBLE_CONCAT_(nibble_aor_, __LINE__) = (expr);                        \
  if (!NIBBLE_CONCAT_(nibble_aor_, __LINE__).ok())                            \
    return std::move(NIBBLE_CONCAT_(nibble_aor_, __LINE__)).error();          \
  decl = std::move(NIBBLE_CONCAT_(nibble_aor_, __LINE__)).value()
