#include "nibble/result.h"

#include <cstdio>
#include <cstdlib>

namespace nibble {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
#define NIBBLE_CODE_(c) \
  case ErrorCode::c:    \
    return #c;
    NIBBLE_CODE_(ok)
    NIBBLE_CODE_(io_error)
    NIBBLE_CODE_(not_gguf)
    NIBBLE_CODE_(unsupported_version)
    NIBBLE_CODE_(truncated)
    NIBBLE_CODE_(too_many_items)
    NIBBLE_CODE_(string_out_of_bounds)
    NIBBLE_CODE_(array_out_of_bounds)
    NIBBLE_CODE_(unknown_value_type)
    NIBBLE_CODE_(duplicate_key)
    NIBBLE_CODE_(duplicate_tensor)
    NIBBLE_CODE_(bad_alignment)
    NIBBLE_CODE_(too_many_dims)
    NIBBLE_CODE_(bad_dimension)
    NIBBLE_CODE_(element_count_overflow)
    NIBBLE_CODE_(bad_block_multiple)
    NIBBLE_CODE_(unknown_tensor_type)
    NIBBLE_CODE_(misaligned_tensor)
    NIBBLE_CODE_(tensor_out_of_bounds)
    NIBBLE_CODE_(overlapping_tensors)
    NIBBLE_CODE_(corrupt_metadata)
    NIBBLE_CODE_(type_mismatch)
    NIBBLE_CODE_(missing_key)
    NIBBLE_CODE_(unsupported_tensor_type)
    NIBBLE_CODE_(unsupported_architecture)
    NIBBLE_CODE_(missing_tensor)
    NIBBLE_CODE_(shape_mismatch)
    NIBBLE_CODE_(unsupported_tokenizer)
    NIBBLE_CODE_(template_error)
    NIBBLE_CODE_(out_of_memory)
    NIBBLE_CODE_(context_full)
    NIBBLE_CODE_(invalid_argument)
    NIBBLE_CODE_(cancelled)
    NIBBLE_CODE_(internal)
    NIBBLE_CODE_(callback_failed)
    NIBBLE_CODE_(state_mismatch)
#undef NIBBLE_CODE_
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string s(error_code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

namespace detail {

void bad_result_access(const Error& error, const char* what) noexcept {
  std::fprintf(stderr, "nibble: %s on an error result: %s\n", what, error.to_string().c_str());
  std::fflush(stderr);
  std::abort();
}

void bad_error_access(const char* what) noexcept {
  std::fprintf(stderr, "nibble: %s on a result that holds no error\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail

}  // namespace nibble
