/* nibble — the C API (C99): load a GGUF model, open sessions, stream text, drive tokens.
 *
 * For bindings (Swift, Kotlin/JNI, Python ctypes, C#) and C programs. Rules:
 * - Handles are opaque. nibble_model is immutable after load and may be shared by sessions on
 *   several threads; a nibble_session is used by one thread at a time, except
 *   nibble_session_cancel(), which any thread may call.
 * - Every function that can fail takes a caller-owned nibble_status* (NULL allowed) and sets
 *   code 0 on success or a non-zero NIBBLE_ERR_* code with a readable message. Pointers that
 *   are returned are NULL and counts are -1 on failure.
 * - No C++ exception crosses this API; an exception thrown by a callback is not possible in C
 *   and is caught (NIBBLE_ERR_CALLBACK_FAILED) when a C++ callback is passed through it.
 * - Strings are UTF-8. Text given to callbacks is never half a character; it is valid only
 *   during the call.
 *
 * Example (compiled by the tests as header_example_c, so it stays true):
 * BEGIN EXAMPLE
 *   #include <stdio.h>
 *   #include "nibble/nibble_c.h"
 *
 *   static int print_text(const char* utf8, size_t len, void* user_data) {
 *     (void)user_data;
 *     fwrite(utf8, 1, len, stdout);
 *     return 0;  // non-zero stops the generation
 *   }
 *
 *   int run(const char* path) {
 *     nibble_status st;
 *     nibble_model* model = nibble_model_load(path, NULL, &st);
 *     if (!model) {
 *       fprintf(stderr, "load failed: %s\n", st.message);
 *       return 1;
 *     }
 *     nibble_session_params sp = nibble_session_default_params();
 *     sp.temperature = 0.0f;  // greedy
 *     nibble_session* session = nibble_session_create(model, &sp, &st);
 *     int n = session ? nibble_generate(session, "Once upon a time", 32, print_text, NULL, &st)
 *                     : -1;
 *     if (n < 0) fprintf(stderr, "error: %s\n", st.message);
 *     nibble_session_free(session);
 *     nibble_model_free(model);
 *     return n < 0;
 *   }
 * END EXAMPLE
 */
#ifndef NIBBLE_C_H
#define NIBBLE_C_H

#include <stddef.h>
#include <stdint.h>

#include "nibble/export.h"
#include "nibble/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------------ */

/* Error codes: the same numbers as nibble::ErrorCode (docs/api.md lists them all). */
enum {
  NIBBLE_OK = 0,
  NIBBLE_ERR_IO = 1,                /* cannot open / read / write a file */
  NIBBLE_ERR_NOT_GGUF = 2,          /* codes 2..26: the model file is invalid or unsupported */
  NIBBLE_ERR_UNSUPPORTED_TOKENIZER = 27,
  NIBBLE_ERR_TEMPLATE = 28,         /* the chat template failed to render */
  NIBBLE_ERR_OUT_OF_MEMORY = 29,
  NIBBLE_ERR_CONTEXT_FULL = 30,
  NIBBLE_ERR_INVALID_ARGUMENT = 31, /* a NULL handle, a bad parameter, a bad token id, ... */
  NIBBLE_ERR_CANCELLED = 32,
  NIBBLE_ERR_INTERNAL = 33,
  NIBBLE_ERR_CALLBACK_FAILED = 34,
  NIBBLE_ERR_STATE_MISMATCH = 35,   /* saved state of another model, n_ctx or KV type */
  NIBBLE_ERR_BUFFER_TOO_SMALL = 1000 /* C API only: the caller's buffer cannot hold the result */
};

typedef struct {
  int code;          /* 0 = ok */
  char message[256]; /* "" when ok; otherwise "<code name>: <what was wrong>", truncated */
} nibble_status;

/* "0.1.0" (NIBBLE_VERSION_STRING of the library actually linked). */
NIBBLE_API const char* nibble_version(void);
/* Stable lower-case name of an error code, e.g. "invalid_argument"; "unknown" otherwise. */
NIBBLE_API const char* nibble_error_name(int code);

/* Log messages of the library (default: stderr, level warn). level: 0 debug, 1 info, 2 warn,
 * 3 error, 4 off. The callback may be called from any thread; NULL restores the default. */
typedef void (*nibble_log_callback)(int level, const char* message, void* user_data);
NIBBLE_API void nibble_set_log_callback(nibble_log_callback cb, void* user_data);
NIBBLE_API void nibble_set_log_level(int level);

/* ---- model ------------------------------------------------------------------------------- */

typedef struct nibble_model nibble_model;

typedef struct {
  const char* isa; /* highest kernel ISA ("scalar", "avx2", "avx512", "neon", ...); NULL or ""
                      = the best this CPU has */
  /* Called with progress in [0, 1] while weights are prepared; return non-zero to cancel. */
  int (*progress)(float progress, void* user_data);
  void* progress_user_data;
} nibble_model_params;

NIBBLE_API nibble_model_params nibble_model_default_params(void);
/* Maps and validates a GGUF file. params NULL = defaults. NULL on error. */
NIBBLE_API nibble_model* nibble_model_load(const char* path, const nibble_model_params* params,
                                           nibble_status* status);
NIBBLE_API void nibble_model_free(nibble_model* model); /* NULL allowed */

typedef struct {
  char architecture[32]; /* general.architecture, e.g. "llama" */
  char name[128];        /* general.name, truncated; "" when absent */
  char isa[16];          /* kernels in use */
  int32_t n_ctx_train;
  int32_t n_vocab;
  int32_t n_layer;
  int32_t n_embd;
  int32_t has_chat_template; /* 1 when the file has one (else a built-in fallback is used) */
  uint64_t weight_bytes;     /* weights in memory (mapped + repacked) */
} nibble_model_info;

/* Returns 0, or -1 (status set) for a NULL model or info. */
NIBBLE_API int nibble_model_get_info(const nibble_model* model, nibble_model_info* info,
                                     nibble_status* status);

/* Special tokens (-1 when the vocabulary has none) and end-of-generation test. */
NIBBLE_API int32_t nibble_token_bos(const nibble_model* model);
NIBBLE_API int32_t nibble_token_eos(const nibble_model* model);
NIBBLE_API int nibble_token_is_eog(const nibble_model* model, int32_t token);

/* Text -> token ids. Writes up to `capacity` ids and returns the total count, which is larger
 * than capacity when the buffer was too small (call again with a larger one; tokens may be
 * NULL when capacity is 0). add_special: BOS as the vocabulary says; parse_special: special
 * token text such as "<|im_start|>" becomes its id. -1 on error. */
NIBBLE_API int32_t nibble_tokenize(const nibble_model* model, const char* text, size_t text_len,
                                   int add_special, int parse_special, int32_t* tokens,
                                   int32_t capacity, nibble_status* status);
/* Token ids -> UTF-8 text. Writes at most capacity - 1 bytes plus a NUL and returns the full
 * length (excluding the NUL), larger than capacity - 1 when the buffer was too small. -1 on
 * error (an id outside the vocabulary). */
NIBBLE_API int64_t nibble_detokenize(const nibble_model* model, const int32_t* tokens,
                                     size_t n_tokens, int skip_special, char* text,
                                     size_t capacity, nibble_status* status);

/* ---- session ----------------------------------------------------------------------------- */

typedef struct nibble_session nibble_session;

typedef struct {
  int32_t n_ctx;      /* 0: the model's trained length, capped at 4096 */
  int32_t n_threads;  /* 0: physical cores */
  int32_t n_batch;    /* prompt tokens per forward pass (>= 1; default 64) */
  int32_t kv_cache_q8_0; /* 1: q8_0 KV cache (53% of f16's memory) */
  int32_t context_shift; /* 1: when the context fills, drop the oldest half after n_keep */
  int32_t n_keep;
  /* sampling; temperature <= 0 is greedy (argmax) */
  float temperature;   /* default 0.8 */
  int32_t top_k;       /* default 40; <= 0 off */
  float top_p;         /* default 0.95; >= 1 off */
  float min_p;         /* default 0.05; <= 0 off */
  float repeat_penalty; /* default 1 (off) */
  float frequency_penalty;
  float presence_penalty;
  int32_t penalty_last_n; /* default 64 */
  uint64_t seed;          /* default 0; the same seed and prompt give the same text */
  /* Speculative decoding (docs/api.md): drafts verified in one forward pass; the output is
   * that of plain decoding (the same tokens when greedy, the same distribution otherwise).
   * At most one drafter: */
  nibble_model* draft_model; /* NULL: none; a small model over the same vocabulary (the
                                session keeps what it needs of it, so it may be freed first) */
  int32_t lookup_ngram;      /* 0: off; prompt lookup matching the last 1..lookup_ngram
                                tokens (at most 16) */
  int32_t n_draft;           /* most tokens drafted per pass, 1..64; default 7 */
} nibble_session_params;

NIBBLE_API nibble_session_params nibble_session_default_params(void);
/* A session (KV cache, sampler) on a model; it keeps what it needs of the model, so the model
 * may be freed first. params NULL =
 * defaults. NULL on error (bad params: the message names the field). */
NIBBLE_API nibble_session* nibble_session_create(nibble_model* model,
                                                 const nibble_session_params* params,
                                                 nibble_status* status);
NIBBLE_API void nibble_session_free(nibble_session* session); /* NULL allowed */
/* Stops the running call at the next token/layer boundary; any thread; NULL allowed. */
NIBBLE_API void nibble_session_cancel(nibble_session* session);
/* Forgets the conversation (keeps the memory). NULL allowed. */
NIBBLE_API void nibble_session_reset(nibble_session* session);

/* Receives generated text as it becomes complete UTF-8; return non-zero to stop. */
typedef int (*nibble_text_callback)(const char* utf8, size_t len, void* user_data);

/* Completes `prompt` (BOS added as the vocabulary says), at most max_tokens tokens, streaming
 * text to cb (NULL: text discarded). Tokens shared with what the session already holds are
 * not evaluated again. Returns the number of tokens generated, or -1 on error. Ending by
 * end-of-generation, max_tokens, cancellation or the callback is not an error: see
 * nibble_session_get_stats() for why it stopped. */
NIBBLE_API int nibble_generate(nibble_session* session, const char* prompt, int max_tokens,
                               nibble_text_callback cb, void* user_data, nibble_status* status);

typedef struct {
  const char* role; /* "system", "user", "assistant", ... */
  const char* content;
} nibble_chat_message;

/* Renders the conversation with the model's chat template (or a built-in fallback) and
 * generates the assistant's answer; otherwise as nibble_generate. */
NIBBLE_API int nibble_chat(nibble_session* session, const nibble_chat_message* messages,
                           size_t n_messages, int max_tokens, nibble_text_callback cb,
                           void* user_data, nibble_status* status);

/* Why the last generation stopped. */
enum {
  NIBBLE_STOP_NONE = 0,
  NIBBLE_STOP_END_OF_GENERATION = 1,
  NIBBLE_STOP_STOP_STRING = 2,
  NIBBLE_STOP_MAX_TOKENS = 3,
  NIBBLE_STOP_CANCELLED = 4,
  NIBBLE_STOP_CALLBACK = 5,
  NIBBLE_STOP_CONTEXT_FULL = 6
};

typedef struct {
  int32_t prompt_tokens;
  int32_t reused_tokens; /* of those, already in the KV cache */
  int32_t generated_tokens;
  int32_t stop_reason; /* NIBBLE_STOP_* */
  double time_to_first_token_ms;
  double prefill_tokens_per_s;
  double decode_tokens_per_s;
  int32_t decode_passes;   /* forward passes after the prompt */
  int32_t draft_tokens;    /* speculative decoding: tokens drafted */
  int32_t accepted_tokens; /* of those, accepted */
} nibble_stats;

/* Statistics of the last generation (zeros for NULL or before any). */
NIBBLE_API nibble_stats nibble_session_get_stats(const nibble_session* session);

/* ---- constrained decoding (docs/grammar.md) ----------------------------------------------- */

enum {
  NIBBLE_GRAMMAR_NONE = 0,        /* no constraint (text ignored) */
  NIBBLE_GRAMMAR_GBNF = 1,        /* text: GBNF, root rule "root" */
  NIBBLE_GRAMMAR_JSON_SCHEMA = 2, /* text: a JSON Schema (the subset in docs/grammar.md) */
  NIBBLE_GRAMMAR_JSON_OBJECT = 3  /* any JSON object (text ignored) */
};

/* Constrains the session's following nibble_generate() / nibble_chat() calls: the text stays
 * inside the grammar's language, ends only where it can end, and is steered to its end within
 * max_tokens. text is UTF-8 of text_len bytes (NULL allowed for NONE and JSON_OBJECT). 0, or
 * -1 with the status naming what was wrong (a GBNF error names its line and column); on error
 * the session keeps its previous grammar. */
NIBBLE_API int nibble_session_set_grammar(nibble_session* session, int kind, const char* text,
                                          size_t text_len, nibble_status* status);

/* ---- token level ------------------------------------------------------------------------- */

/* Tokens in the KV cache (0 for NULL); copies up to capacity of them into tokens (may be
 * NULL) and returns the total. */
NIBBLE_API int32_t nibble_session_tokens(const nibble_session* session, int32_t* tokens,
                                         int32_t capacity);
NIBBLE_API int32_t nibble_session_n_ctx(const nibble_session* session);
/* Evaluates tokens after those in the KV cache. 0, or -1 on error (context full: nothing
 * evaluated; an id outside the vocabulary). */
NIBBLE_API int nibble_session_eval(nibble_session* session, const int32_t* tokens,
                                   size_t n_tokens, nibble_status* status);
/* The last evaluated token's logits (n_vocab floats, *n_vocab set when not NULL), valid until
 * the next call that evaluates, truncates or loads state; NULL before any evaluation. */
NIBBLE_API const float* nibble_session_logits(const nibble_session* session, int32_t* n_vocab);
/* Draws the next token from the logits with the session's sampler (does not evaluate it).
 * -1 on error (no logits yet). */
NIBBLE_API int32_t nibble_session_sample(nibble_session* session, nibble_status* status);
/* Keeps the first n tokens of the KV cache. 0, or -1 on error. */
NIBBLE_API int nibble_session_truncate(nibble_session* session, int32_t n,
                                       nibble_status* status);

/* ---- state (prompt cache) ----------------------------------------------------------------- */

/* Saves the cached tokens, the last logits and the KV cache. With buffer NULL or capacity too
 * small, writes nothing and returns the size needed (status NIBBLE_ERR_BUFFER_TOO_SMALL when a
 * buffer was given). Returns the bytes written, or 0 with status set on error. */
NIBBLE_API size_t nibble_session_state_save(const nibble_session* session, void* buffer,
                                            size_t capacity, nibble_status* status);
/* Restores a state saved from a session of the same model file, n_ctx and KV type: the
 * logits afterwards are bit-identical to the saved session's. A refused state leaves the
 * session as it was. 0, or -1 on error. */
NIBBLE_API int nibble_session_state_load(nibble_session* session, const void* buffer,
                                         size_t size, nibble_status* status);
NIBBLE_API int nibble_session_state_save_file(const nibble_session* session, const char* path,
                                              nibble_status* status);
NIBBLE_API int nibble_session_state_load_file(nibble_session* session, const char* path,
                                              nibble_status* status);

#ifdef __cplusplus
}
#endif

#endif /* NIBBLE_C_H */
