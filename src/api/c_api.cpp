// C API, part 1: status, version, logging, model, tokenizer (include/nibble/nibble_c.h).
#include <algorithm>
#include <cstring>
#include <mutex>

#include "api/c_api_impl.h"
#include "nibble/log.h"
#include "nibble/version.h"

using nibble::ErrorCode;

// The C codes are nibble::ErrorCode's numbers.
static_assert(NIBBLE_ERR_IO == static_cast<int>(ErrorCode::io_error));
static_assert(NIBBLE_ERR_NOT_GGUF == static_cast<int>(ErrorCode::not_gguf));
static_assert(NIBBLE_ERR_UNSUPPORTED_TOKENIZER ==
              static_cast<int>(ErrorCode::unsupported_tokenizer));
static_assert(NIBBLE_ERR_TEMPLATE == static_cast<int>(ErrorCode::template_error));
static_assert(NIBBLE_ERR_OUT_OF_MEMORY == static_cast<int>(ErrorCode::out_of_memory));
static_assert(NIBBLE_ERR_CONTEXT_FULL == static_cast<int>(ErrorCode::context_full));
static_assert(NIBBLE_ERR_INVALID_ARGUMENT == static_cast<int>(ErrorCode::invalid_argument));
static_assert(NIBBLE_ERR_CANCELLED == static_cast<int>(ErrorCode::cancelled));
static_assert(NIBBLE_ERR_INTERNAL == static_cast<int>(ErrorCode::internal));
static_assert(NIBBLE_ERR_CALLBACK_FAILED == static_cast<int>(ErrorCode::callback_failed));
static_assert(NIBBLE_ERR_STATE_MISMATCH == static_cast<int>(ErrorCode::state_mismatch));

namespace nibble::capi {

void set_ok(nibble_status* st) {
  if (!st) return;
  st->code = NIBBLE_OK;
  st->message[0] = '\0';
}

void set_error(nibble_status* st, int code, const std::string& message) {
  if (!st) return;
  st->code = code;
  std::string text = std::string(nibble_error_name(code)) + ": " + message;
  const size_t n = std::min(text.size(), sizeof(st->message) - 1);
  std::memcpy(st->message, text.data(), n);
  st->message[n] = '\0';
}

void set_null(nibble_status* st, const char* fn, const char* what) {
  set_error(st, NIBBLE_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + what + " is NULL");
}

namespace {

// Copies s into a fixed char array, truncated, NUL-terminated.
template <size_t N>
void copy_str(char (&dst)[N], const std::string& s) {
  const size_t n = std::min(s.size(), N - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

}  // namespace
}  // namespace nibble::capi

using namespace nibble::capi;

extern "C" {

const char* nibble_version(void) { return NIBBLE_VERSION_STRING; }

const char* nibble_error_name(int code) {
  if (code == NIBBLE_ERR_BUFFER_TOO_SMALL) return "buffer_too_small";
  if (code < 0 || code > NIBBLE_ERR_STATE_MISMATCH) return "unknown";
  // error_code_name returns a view of a string literal (NUL-terminated).
  return nibble::error_code_name(static_cast<ErrorCode>(code)).data();
}

void nibble_set_log_callback(nibble_log_callback cb, void* user_data) {
  if (!cb) {
    nibble::set_log_handler({});
    return;
  }
  nibble::set_log_handler([cb, user_data](nibble::LogLevel level, std::string_view message) {
    const std::string text(message);
    cb(static_cast<int>(level), text.c_str(), user_data);
  });
}

void nibble_set_log_level(int level) {
  nibble::set_log_level(static_cast<nibble::LogLevel>(std::clamp(level, 0, 4)));
}

nibble_model_params nibble_model_default_params(void) {
  nibble_model_params p;
  p.isa = nullptr;
  p.progress = nullptr;
  p.progress_user_data = nullptr;
  return p;
}

nibble_model* nibble_model_load(const char* path, const nibble_model_params* params,
                                nibble_status* status) {
  return guarded(status, static_cast<nibble_model*>(nullptr), [&]() -> nibble_model* {
    if (!path) {
      set_null(status, "nibble_model_load", "path");
      return nullptr;
    }
    const nibble_model_params p = params ? *params : nibble_model_default_params();
    nibble::ModelOptions mo;
    if (p.isa) mo.isa = p.isa;
    if (p.progress) {
      auto fn = p.progress;
      void* ud = p.progress_user_data;
      mo.progress = [fn, ud](float progress) { return fn(progress, ud) == 0; };
    }
    auto model = nibble::Model::load(path, mo);
    if (!model) {
      set_error(status, model.error());
      return nullptr;
    }
    auto* m = new nibble_model{std::move(model).value()};
    set_ok(status);
    return m;
  });
}

void nibble_model_free(nibble_model* model) { delete model; }

int nibble_model_get_info(const nibble_model* model, nibble_model_info* info,
                          nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!model || !info) {
      set_null(status, "nibble_model_get_info", model ? "info" : "model");
      return -1;
    }
    const nibble::ModelInfo i = model->model.info();
    std::memset(info, 0, sizeof(*info));
    copy_str(info->architecture, i.architecture);
    copy_str(info->name, i.name);
    copy_str(info->isa, i.isa);
    info->n_ctx_train = i.n_ctx_train;
    info->n_vocab = i.n_vocab;
    info->n_layer = i.n_layer;
    info->n_embd = i.n_embd;
    info->has_chat_template = i.has_chat_template ? 1 : 0;
    info->weight_bytes = i.weight_bytes;
    set_ok(status);
    return 0;
  });
}

int32_t nibble_token_bos(const nibble_model* model) {
  return model ? model->model.tokenizer()->bos() : -1;
}

int32_t nibble_token_eos(const nibble_model* model) {
  return model ? model->model.tokenizer()->eos() : -1;
}

int nibble_token_is_eog(const nibble_model* model, int32_t token) {
  return model && model->model.tokenizer()->is_end_of_generation(token) ? 1 : 0;
}

int32_t nibble_tokenize(const nibble_model* model, const char* text, size_t text_len,
                        int add_special, int parse_special, int32_t* tokens, int32_t capacity,
                        nibble_status* status) {
  return guarded(status, -1, [&]() -> int32_t {
    if (!model || (!text && text_len > 0)) {
      set_null(status, "nibble_tokenize", model ? "text" : "model");
      return -1;
    }
    if (capacity < 0 || (capacity > 0 && !tokens)) {
      set_error(status, NIBBLE_ERR_INVALID_ARGUMENT,
                "nibble_tokenize: tokens is NULL or capacity is negative");
      return -1;
    }
    nibble::EncodeOptions eo;
    eo.add_special = add_special != 0;
    eo.parse_special = parse_special != 0;
    auto ids = model->model.tokenizer()->encode(std::string_view(text ? text : "", text_len), eo);
    if (!ids) {
      set_error(status, ids.error());
      return -1;
    }
    if (ids->size() > static_cast<size_t>(INT32_MAX)) {
      set_error(status, NIBBLE_ERR_INVALID_ARGUMENT, "nibble_tokenize: text too long");
      return -1;
    }
    const auto n = static_cast<int32_t>(ids->size());
    std::copy_n(ids->begin(), std::min(n, capacity), tokens);
    set_ok(status);
    return n;
  });
}

int64_t nibble_detokenize(const nibble_model* model, const int32_t* tokens, size_t n_tokens,
                          int skip_special, char* text, size_t capacity, nibble_status* status) {
  return guarded(status, int64_t{-1}, [&]() -> int64_t {
    if (!model || (!tokens && n_tokens > 0) || (!text && capacity > 0)) {
      set_null(status, "nibble_detokenize", !model ? "model" : !text ? "text" : "tokens");
      return -1;
    }
    const auto& tok = model->model.tokenizer();
    const int32_t n_vocab = tok->n_vocab();
    for (size_t i = 0; i < n_tokens; ++i)
      if (tokens[i] < 0 || tokens[i] >= n_vocab) {
        set_error(status, NIBBLE_ERR_INVALID_ARGUMENT,
                  "nibble_detokenize: token id " + std::to_string(tokens[i]) + " at index " +
                      std::to_string(i) + " is outside the vocabulary");
        return -1;
      }
    const std::string s = tok->decode(std::span<const int32_t>(tokens, n_tokens), skip_special != 0);
    if (capacity > 0) {
      const size_t n = std::min(s.size(), capacity - 1);
      std::memcpy(text, s.data(), n);
      text[n] = '\0';
    }
    set_ok(status);
    return static_cast<int64_t>(s.size());
  });
}

}  // extern "C"
