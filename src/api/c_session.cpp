// C API, part 2: sessions, generation, token level, state (include/nibble/nibble_c.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "api/c_api_impl.h"

using namespace nibble::capi;

namespace {

// Calls the C callback from the C++ text callback; a non-zero return stops.
nibble::TextCallback bridge(nibble_text_callback cb, void* user_data) {
  if (!cb) return {};
  return [cb, user_data](std::string_view text) { return cb(text.data(), text.size(), user_data) == 0; };
}

// The result of a generation: tokens generated, or -1 with the status set.
int finish(nibble_status* status, const nibble::Result<nibble::Stats>& r) {
  if (!r) {
    set_error(status, r.error());
    return -1;
  }
  set_ok(status);
  return r->generated_tokens;
}

bool check_session(nibble_session* s, nibble_status* status, const char* fn) {
  if (s) return true;
  set_null(status, fn, "session");
  return false;
}

}  // namespace

extern "C" {

nibble_session_params nibble_session_default_params(void) {
  const nibble::SessionOptions o;
  nibble_session_params p;
  p.n_ctx = o.n_ctx;
  p.n_threads = o.n_threads;
  p.n_batch = o.n_batch;
  p.kv_cache_q8_0 = o.kv_cache_q8_0 ? 1 : 0;
  p.context_shift = o.context_shift ? 1 : 0;
  p.n_keep = o.n_keep;
  p.temperature = o.sampling.temperature;
  p.top_k = o.sampling.top_k;
  p.top_p = o.sampling.top_p;
  p.min_p = o.sampling.min_p;
  p.repeat_penalty = o.sampling.repeat_penalty;
  p.frequency_penalty = o.sampling.frequency_penalty;
  p.presence_penalty = o.sampling.presence_penalty;
  p.penalty_last_n = o.sampling.penalty_last_n;
  p.seed = o.sampling.seed;
  p.draft_model = nullptr;
  p.lookup_ngram = o.speculative.lookup_ngram;
  p.n_draft = o.speculative.n_draft;
  return p;
}

nibble_session* nibble_session_create(nibble_model* model, const nibble_session_params* params,
                                      nibble_status* status) {
  return guarded(status, static_cast<nibble_session*>(nullptr), [&]() -> nibble_session* {
    if (!model) {
      set_null(status, "nibble_session_create", "model");
      return nullptr;
    }
    const nibble_session_params p = params ? *params : nibble_session_default_params();
    nibble::SessionOptions o;
    o.n_ctx = p.n_ctx;
    o.n_threads = p.n_threads;
    o.n_batch = p.n_batch;
    o.kv_cache_q8_0 = p.kv_cache_q8_0 != 0;
    o.context_shift = p.context_shift != 0;
    o.n_keep = p.n_keep;
    o.sampling.temperature = p.temperature;
    o.sampling.top_k = p.top_k;
    o.sampling.top_p = p.top_p;
    o.sampling.min_p = p.min_p;
    o.sampling.repeat_penalty = p.repeat_penalty;
    o.sampling.frequency_penalty = p.frequency_penalty;
    o.sampling.presence_penalty = p.presence_penalty;
    o.sampling.penalty_last_n = p.penalty_last_n;
    o.sampling.seed = p.seed;
    if (p.draft_model) o.speculative.draft_model = p.draft_model->model;
    o.speculative.lookup_ngram = p.lookup_ngram;
    o.speculative.n_draft = p.n_draft;
    auto s = nibble::Session::create(model->model, o);
    if (!s) {
      set_error(status, s.error());
      return nullptr;
    }
    auto* h = new nibble_session{std::move(s).value(), std::nullopt};
    set_ok(status);
    return h;
  });
}

void nibble_session_free(nibble_session* session) { delete session; }

void nibble_session_cancel(nibble_session* session) {
  if (session) session->session.cancel();
}

void nibble_session_reset(nibble_session* session) {
  if (session) session->session.reset();
}

int nibble_generate(nibble_session* session, const char* prompt, int max_tokens,
                    nibble_text_callback cb, void* user_data, nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!check_session(session, status, "nibble_generate")) return -1;
    if (!prompt) {
      set_null(status, "nibble_generate", "prompt");
      return -1;
    }
    nibble::GenerateOptions g;
    g.max_tokens = max_tokens;
    g.grammar = session->grammar;
    return finish(status, session->session.generate(prompt, g, bridge(cb, user_data)));
  });
}

int nibble_chat(nibble_session* session, const nibble_chat_message* messages, size_t n_messages,
                int max_tokens, nibble_text_callback cb, void* user_data,
                nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!check_session(session, status, "nibble_chat")) return -1;
    if (!messages && n_messages > 0) {
      set_null(status, "nibble_chat", "messages");
      return -1;
    }
    std::vector<nibble::ChatMessage> msgs;
    for (size_t i = 0; i < n_messages; ++i) {
      if (!messages[i].role || !messages[i].content) {
        set_error(status, NIBBLE_ERR_INVALID_ARGUMENT,
                  "nibble_chat: message " + std::to_string(i) + " has a NULL role or content");
        return -1;
      }
      msgs.push_back({messages[i].role, messages[i].content});
    }
    nibble::GenerateOptions g;
    g.max_tokens = max_tokens;
    g.grammar = session->grammar;
    return finish(status, session->session.chat(msgs, g, bridge(cb, user_data)));
  });
}

int nibble_session_set_grammar(nibble_session* session, int kind, const char* text,
                               size_t text_len, nibble_status* status) {
  return guarded(status, -1, [&]() -> int {
    if (!check_session(session, status, "nibble_session_set_grammar")) return -1;
    const bool needs_text = kind == NIBBLE_GRAMMAR_GBNF || kind == NIBBLE_GRAMMAR_JSON_SCHEMA;
    if (needs_text && !text) {
      set_null(status, "nibble_session_set_grammar", "text");
      return -1;
    }
    const std::string_view t = text ? std::string_view(text, text_len) : std::string_view();
    nibble::Result<nibble::Grammar> g = nibble::Grammar::json_object();
    switch (kind) {
      case NIBBLE_GRAMMAR_NONE: session->grammar.reset(); return finish_status(status, {});
      case NIBBLE_GRAMMAR_GBNF: g = nibble::Grammar::parse(t); break;
      case NIBBLE_GRAMMAR_JSON_SCHEMA: g = nibble::Grammar::from_json_schema(t); break;
      case NIBBLE_GRAMMAR_JSON_OBJECT: break;
      default:
        set_error(status, NIBBLE_ERR_INVALID_ARGUMENT,
                  "nibble_session_set_grammar: unknown kind " + std::to_string(kind));
        return -1;
    }
    if (!g) return finish_status(status, g.error());
    session->grammar = *g;
    return finish_status(status, {});
  });
}

nibble_stats nibble_session_get_stats(const nibble_session* session) {
  nibble_stats out;
  std::memset(&out, 0, sizeof(out));
  if (!session) return out;
  const nibble::Stats& s = session->session.stats();
  out.prompt_tokens = s.prompt_tokens;
  out.reused_tokens = s.reused_tokens;
  out.generated_tokens = s.generated_tokens;
  out.stop_reason = static_cast<int32_t>(s.stop_reason);
  out.time_to_first_token_ms = s.time_to_first_token_ms;
  out.prefill_tokens_per_s = s.prefill_tokens_per_s;
  out.decode_tokens_per_s = s.decode_tokens_per_s;
  out.decode_passes = s.decode_passes;
  out.draft_tokens = s.draft_tokens;
  out.accepted_tokens = s.accepted_tokens;
  return out;
}

int32_t nibble_session_tokens(const nibble_session* session, int32_t* tokens, int32_t capacity) {
  if (!session) return 0;
  const auto t = session->session.tokens();
  if (tokens && capacity > 0)
    std::copy_n(t.begin(), std::min<size_t>(t.size(), static_cast<size_t>(capacity)), tokens);
  return static_cast<int32_t>(t.size());
}

int32_t nibble_session_n_ctx(const nibble_session* session) {
  return session ? session->session.n_ctx() : 0;
}

int nibble_session_eval(nibble_session* session, const int32_t* tokens, size_t n_tokens,
                        nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!check_session(session, status, "nibble_session_eval")) return -1;
    if (!tokens && n_tokens > 0) {
      set_null(status, "nibble_session_eval", "tokens");
      return -1;
    }
    return finish_status(status,
                         session->session.eval(std::span<const int32_t>(tokens, n_tokens)));
  });
}

const float* nibble_session_logits(const nibble_session* session, int32_t* n_vocab) {
  if (n_vocab) *n_vocab = 0;
  if (!session) return nullptr;
  const auto l = session->session.logits();
  if (l.empty()) return nullptr;
  if (n_vocab) *n_vocab = static_cast<int32_t>(l.size());
  return l.data();
}

int32_t nibble_session_sample(nibble_session* session, nibble_status* status) {
  return guarded(status, int32_t{-1}, [&]() -> int32_t {
    if (!check_session(session, status, "nibble_session_sample")) return -1;
    auto t = session->session.sample();
    if (!t) {
      set_error(status, t.error());
      return -1;
    }
    set_ok(status);
    return *t;
  });
}

int nibble_session_truncate(nibble_session* session, int32_t n, nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!check_session(session, status, "nibble_session_truncate")) return -1;
    return finish_status(status, session->session.truncate(n));
  });
}

size_t nibble_session_state_save(const nibble_session* session, void* buffer, size_t capacity,
                                 nibble_status* status) {
  return guarded(status, size_t{0}, [&]() -> size_t {
    if (!session) {
      set_null(status, "nibble_session_state_save", "session");
      return 0;
    }
    auto bytes = session->session.save_state();
    if (!bytes) {
      set_error(status, bytes.error());
      return 0;
    }
    if (!buffer || capacity < bytes->size()) {
      if (buffer)
        set_error(status, NIBBLE_ERR_BUFFER_TOO_SMALL,
                  "nibble_session_state_save: the state needs " + std::to_string(bytes->size()) +
                      " bytes, the buffer holds " + std::to_string(capacity));
      else
        set_ok(status);
      return bytes->size();
    }
    std::memcpy(buffer, bytes->data(), bytes->size());
    set_ok(status);
    return bytes->size();
  });
}

int nibble_session_state_load(nibble_session* session, const void* buffer, size_t size,
                              nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!check_session(session, status, "nibble_session_state_load")) return -1;
    if (!buffer) {
      set_null(status, "nibble_session_state_load", "buffer");
      return -1;
    }
    const auto* bytes = static_cast<const uint8_t*>(buffer);
    return finish_status(status, session->session.load_state(std::span(bytes, size)));
  });
}

int nibble_session_state_save_file(const nibble_session* session, const char* path,
                                   nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!session || !path) {
      set_null(status, "nibble_session_state_save_file", session ? "path" : "session");
      return -1;
    }
    return finish_status(status, session->session.save_state_file(path));
  });
}

int nibble_session_state_load_file(nibble_session* session, const char* path,
                                   nibble_status* status) {
  return guarded(status, -1, [&] {
    if (!session || !path) {
      set_null(status, "nibble_session_state_load_file", session ? "path" : "session");
      return -1;
    }
    return finish_status(status, session->session.load_state_file(path));
  });
}

}  // extern "C"
