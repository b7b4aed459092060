// Internals of the C API (include/nibble/nibble_c.h): the handle types and the helpers that
// turn nibble::Error and exceptions into nibble_status.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "nibble/nibble.h"
#include "nibble/nibble_c.h"

struct nibble_model {
  nibble::Model model;
};

// A session holds a reference to its model's internals, so nibble_model_free() may come
// before nibble_session_free().
struct nibble_session {
  nibble::Session session;
  std::optional<nibble::Grammar> grammar;  // nibble_session_set_grammar()
};

namespace nibble::capi {

void set_ok(nibble_status* st);
void set_error(nibble_status* st, int code, const std::string& message);
inline void set_error(nibble_status* st, const Error& e) {
  set_error(st, static_cast<int>(e.code()), e.message());
}
// 0 and an ok status, or -1 and the error: the end of every C call that returns a Status.
inline int finish_status(nibble_status* st, const Status& s) {
  if (!s) {
    set_error(st, s.error());
    return -1;
  }
  set_ok(st);
  return 0;
}
// NIBBLE_ERR_INVALID_ARGUMENT naming the NULL argument of `fn`.
void set_null(nibble_status* st, const char* fn, const char* what);

// Runs f (which returns R) with every exception turned into an error status and `fail`.
template <typename R, typename F>
R guarded(nibble_status* st, R fail, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    set_error(st, NIBBLE_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    set_error(st, NIBBLE_ERR_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    set_error(st, NIBBLE_ERR_INTERNAL, "unexpected exception");
  }
  return fail;
}

}  // namespace nibble::capi
