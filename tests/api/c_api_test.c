/* The C API from C (compiled as C99 with -Wall -Werror): every function, with NULL and bad
 * arguments. Usage: c_api_test MODEL.gguf OTHER_MODEL.gguf CASE   (ctest runs each case).
 * MODEL is stories260K-f32, OTHER_MODEL stories260K-f16 (same vocabulary, other file). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nibble/nibble_c.h"

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)
#define CHECK_STATUS(st, want)                                                          \
  do {                                                                                  \
    if ((st).code != (want)) {                                                          \
      fprintf(stderr, "%s:%d: status %d (%s), want %d\n", __FILE__, __LINE__, (st).code, \
              (st).message, (want));                                                    \
      ++failures;                                                                       \
    }                                                                                   \
  } while (0)

static const char* model_path;
static const char* other_path;
static const char* kPrompt = "Once upon a time";
/* What the model writes after kPrompt with greedy decoding (../shared/README.md). */
static const char* kGreedy =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she "
    "saw a big, red ball.";

typedef struct {
  char text[4096];
  size_t len;
  int calls;
  int stop_after; /* 0: never */
  nibble_session* cancel_target;
} sink;

static int collect(const char* utf8, size_t len, void* user_data) {
  sink* s = (sink*)user_data;
  if (s->len + len < sizeof s->text) {
    memcpy(s->text + s->len, utf8, len);
    s->len += len;
    s->text[s->len] = '\0';
  }
  ++s->calls;
  return s->stop_after > 0 && s->calls >= s->stop_after;
}

static nibble_model* load(void) {
  nibble_status st;
  nibble_model* m = nibble_model_load(model_path, NULL, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  if (!m) {
    fprintf(stderr, "cannot load %s: %s\n", model_path, st.message);
    exit(1);
  }
  return m;
}

static nibble_session* greedy_session(nibble_model* m, int n_ctx, int q8) {
  nibble_status st;
  nibble_session_params p = nibble_session_default_params();
  p.n_ctx = n_ctx;
  p.n_threads = 2;
  p.temperature = 0.0f;
  p.kv_cache_q8_0 = q8;
  nibble_session* s = nibble_session_create(m, &p, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  if (!s) exit(1);
  return s;
}

static void case_version(void) {
  CHECK(strcmp(nibble_version(), NIBBLE_VERSION_STRING) == 0);
  CHECK(NIBBLE_VERSION_NUMBER ==
        NIBBLE_VERSION_MAJOR * 10000 + NIBBLE_VERSION_MINOR * 100 + NIBBLE_VERSION_PATCH);
  CHECK(strcmp(nibble_error_name(NIBBLE_OK), "ok") == 0);
  CHECK(strcmp(nibble_error_name(NIBBLE_ERR_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(nibble_error_name(NIBBLE_ERR_STATE_MISMATCH), "state_mismatch") == 0);
  CHECK(strcmp(nibble_error_name(NIBBLE_ERR_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
  CHECK(strcmp(nibble_error_name(-5), "unknown") == 0);
  CHECK(strcmp(nibble_error_name(123456), "unknown") == 0);
}

static int log_calls = 0;
static void on_log(int level, const char* message, void* user_data) {
  (void)message;
  CHECK(user_data == &log_calls);
  CHECK(level >= 0 && level <= 3);
  ++log_calls;
}

static void case_model_load(void) {
  nibble_status st;
  nibble_model_params p = nibble_model_default_params();
  nibble_model_info info;
  nibble_model* m;
  CHECK(p.isa == NULL && p.progress == NULL);
  /* NULL path, missing file, not a GGUF, unknown ISA: NULL with a message naming the problem. */
  CHECK(nibble_model_load(NULL, NULL, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(st.message, "path") != NULL);
  CHECK(nibble_model_load("/nonexistent/model.gguf", NULL, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_IO);
  CHECK(strstr(st.message, "/nonexistent/model.gguf") != NULL);
  CHECK(nibble_model_load(NIBBLE_SOURCE_DIR "/README.md", NULL, &st) == NULL);
  CHECK(st.code != NIBBLE_OK && st.message[0] != '\0');
  p.isa = "no-such-isa";
  CHECK(nibble_model_load(model_path, &p, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(st.message, "no-such-isa") != NULL);
  CHECK(nibble_model_load(NULL, NULL, NULL) == NULL); /* status NULL is allowed */
  nibble_model_free(NULL);

  m = nibble_model_load(model_path, NULL, NULL);
  CHECK(m != NULL);
  CHECK(nibble_model_get_info(m, &info, &st) == 0);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(strcmp(info.architecture, "llama") == 0);
  CHECK(info.n_vocab == 512);
  CHECK(info.n_layer > 0 && info.n_embd > 0 && info.n_ctx_train > 0);
  CHECK(info.weight_bytes > 0);
  CHECK(info.isa[0] != '\0');
  CHECK(nibble_model_get_info(NULL, &info, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(nibble_model_get_info(m, NULL, &st) == -1);
  CHECK(nibble_token_bos(m) == 1);
  CHECK(nibble_token_eos(m) == 2);
  CHECK(nibble_token_is_eog(m, 2) == 1);
  CHECK(nibble_token_is_eog(m, 100) == 0);
  CHECK(nibble_token_bos(NULL) == -1 && nibble_token_is_eog(NULL, 2) == 0);
  nibble_model_free(m);

  /* Logging reaches the callback (an unknown ISA cap is only a warning for valid names:
   * "scalar" caps without one, so use the log level API itself). */
  nibble_set_log_callback(on_log, &log_calls);
  nibble_set_log_level(0);
  m = nibble_model_load(model_path, NULL, NULL);
  nibble_model_free(m);
  nibble_set_log_callback(NULL, NULL);
  nibble_set_log_level(2);
  CHECK(log_calls > 0);
}

static int progress_calls = 0;
static int on_progress(float progress, void* user_data) {
  CHECK(progress >= 0.0f && progress <= 1.0f);
  ++progress_calls;
  return user_data != NULL; /* non-zero cancels */
}

static void case_model_progress(void) {
  nibble_status st;
  nibble_model_params p = nibble_model_default_params();
  nibble_model* m;
  p.progress = on_progress;
  p.isa = "scalar";
  m = nibble_model_load(model_path, &p, &st);
  CHECK(m != NULL);
  CHECK(progress_calls > 0);
  nibble_model_free(m);
  p.progress_user_data = &progress_calls; /* cancel */
  CHECK(nibble_model_load(model_path, &p, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_CANCELLED);
}

static void case_tokenize(void) {
  nibble_status st;
  nibble_model* m = load();
  int32_t ids[64];
  char text[256];
  int32_t n = nibble_tokenize(m, kPrompt, strlen(kPrompt), 1, 0, ids, 64, &st);
  int64_t len;
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(n > 1 && n < 64);
  CHECK(ids[0] == nibble_token_bos(m));
  /* Too small a buffer: the count comes back, the caller retries. */
  CHECK(nibble_tokenize(m, kPrompt, strlen(kPrompt), 1, 0, ids, 2, &st) == n);
  CHECK(nibble_tokenize(m, kPrompt, strlen(kPrompt), 1, 0, NULL, 0, &st) == n);
  CHECK(nibble_tokenize(m, kPrompt, strlen(kPrompt), 0, 0, ids, 64, &st) == n - 1);
  CHECK(nibble_tokenize(m, "", 0, 0, 0, ids, 64, &st) == 0);
  CHECK(nibble_tokenize(NULL, kPrompt, 4, 1, 0, ids, 64, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(nibble_tokenize(m, NULL, 4, 1, 0, ids, 64, &st) == -1);
  CHECK(nibble_tokenize(m, kPrompt, 4, 1, 0, NULL, 64, &st) == -1);
  CHECK(nibble_tokenize(m, kPrompt, 4, 1, 0, ids, -1, &st) == -1);

  n = nibble_tokenize(m, kPrompt, strlen(kPrompt), 1, 0, ids, 64, &st);
  len = nibble_detokenize(m, ids, (size_t)n, 1, text, sizeof text, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(len == (int64_t)strlen(kPrompt));
  CHECK(strcmp(text, kPrompt) == 0);
  /* Truncated into a small buffer, NUL-terminated, full length returned. */
  CHECK(nibble_detokenize(m, ids, (size_t)n, 1, text, 5, &st) == len);
  CHECK(strlen(text) == 4);
  CHECK(nibble_detokenize(m, ids, (size_t)n, 1, NULL, 0, &st) == len);
  ids[1] = 100000;
  CHECK(nibble_detokenize(m, ids, (size_t)n, 1, text, sizeof text, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(st.message, "100000") != NULL);
  CHECK(nibble_detokenize(NULL, ids, 1, 1, text, sizeof text, &st) == -1);
  nibble_model_free(m);
}

static void case_session_params(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session_params p = nibble_session_default_params();
  nibble_session* s;
  CHECK(p.n_ctx == 0 && p.n_batch == 64 && p.temperature > 0.0f && p.top_k == 40);
  CHECK(nibble_session_create(NULL, NULL, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  p.n_ctx = -1;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK(strstr(st.message, "n_ctx") != NULL);
  p = nibble_session_default_params();
  p.n_batch = 0;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK(strstr(st.message, "n_batch") != NULL);
  p = nibble_session_default_params();
  p.n_threads = -3;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  p = nibble_session_default_params();
  p.top_p = -1.0f;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  s = nibble_session_create(m, NULL, &st); /* defaults */
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(nibble_session_n_ctx(s) > 0);
  nibble_session_free(s);
  nibble_session_free(NULL);
  nibble_session_cancel(NULL);
  nibble_session_reset(NULL);
  CHECK(nibble_session_n_ctx(NULL) == 0);
  nibble_model_free(m);
}

static void case_generate(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session* s = greedy_session(m, 256, 0);
  sink out;
  nibble_stats stats;
  int n;
  memset(&out, 0, sizeof out);
  n = nibble_generate(s, kPrompt, 40, collect, &out, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(n == 40);
  CHECK(strncmp(out.text, kGreedy, strlen(kGreedy)) == 0);
  stats = nibble_session_get_stats(s);
  CHECK(stats.generated_tokens == 40);
  CHECK(stats.stop_reason == NIBBLE_STOP_MAX_TOKENS);
  CHECK(stats.prompt_tokens > 0 && stats.decode_tokens_per_s > 0.0);
  /* The model may be freed before the session. */
  nibble_model_free(m);
  /* Stop from the callback, not an error. */
  memset(&out, 0, sizeof out);
  out.stop_after = 3;
  n = nibble_generate(s, kPrompt, 40, collect, &out, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(out.calls == 3 && n >= 3 && n < 40);
  CHECK(nibble_session_get_stats(s).stop_reason == NIBBLE_STOP_CALLBACK);
  /* No callback: text discarded, tokens counted. */
  CHECK(nibble_generate(s, kPrompt, 5, NULL, NULL, &st) == 5);
  /* Bad arguments. */
  CHECK(nibble_generate(NULL, kPrompt, 5, NULL, NULL, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(nibble_generate(s, NULL, 5, NULL, NULL, &st) == -1);
  CHECK(nibble_generate(s, kPrompt, -1, NULL, NULL, &st) == -1);
  CHECK(strstr(st.message, "max_tokens") != NULL);
  CHECK(nibble_generate(s, "", 5, NULL, NULL, &st) >= 0 || st.code == NIBBLE_ERR_INVALID_ARGUMENT);
  nibble_session_free(s);
}

static void case_chat(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session* s = greedy_session(m, 256, 0);
  nibble_chat_message msgs[2];
  nibble_chat_message bad[1];
  sink out;
  int n;
  msgs[0].role = "system";
  msgs[0].content = "You tell stories.";
  msgs[1].role = "user";
  msgs[1].content = "Tell me about Lily.";
  memset(&out, 0, sizeof out);
  n = nibble_chat(s, msgs, 2, 16, collect, &out, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(n > 0 && n <= 16);
  CHECK(out.len > 0);
  bad[0].role = "user";
  bad[0].content = NULL;
  CHECK(nibble_chat(s, bad, 1, 16, collect, &out, &st) == -1);
  CHECK(strstr(st.message, "message 0") != NULL);
  CHECK(nibble_chat(s, NULL, 2, 16, collect, &out, &st) == -1);
  CHECK(nibble_chat(NULL, msgs, 2, 16, collect, &out, &st) == -1);
  nibble_session_free(s);
  nibble_model_free(m);
}

static int cancel_issued = 0;

/* Cancels from this thread once text streams; the callback holds the generation until then,
 * so the cancellation lands in the middle of it. */
static void* cancel_later(void* arg) {
  sink* out = (sink*)arg;
  while (__atomic_load_n(&out->calls, __ATOMIC_SEQ_CST) < 1) {
  }
  nibble_session_cancel(out->cancel_target);
  __atomic_store_n(&cancel_issued, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static int collect_atomic(const char* utf8, size_t len, void* user_data) {
  sink* s = (sink*)user_data;
  (void)utf8;
  (void)len;
  if (__atomic_add_fetch(&s->calls, 1, __ATOMIC_SEQ_CST) == 1) {
    while (!__atomic_load_n(&cancel_issued, __ATOMIC_SEQ_CST)) {
    }
  }
  return 0;
}

static void case_cancel(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session* s = greedy_session(m, 2048, 0);
  sink out;
  pthread_t th;
  int n;
  memset(&out, 0, sizeof out);
  out.cancel_target = s;
  pthread_create(&th, NULL, cancel_later, &out);
  n = nibble_generate(s, kPrompt, 2000, collect_atomic, &out, &st);
  pthread_join(th, NULL);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(n >= 1 && n < 2000);
  CHECK(nibble_session_get_stats(s).stop_reason == NIBBLE_STOP_CANCELLED);
  nibble_session_free(s);
  nibble_model_free(m);
}

static int argmax(const float* l, int32_t n) {
  int32_t i, best = 0;
  for (i = 1; i < n; ++i)
    if (l[i] > l[best]) best = i;
  return best;
}

static void case_token_level(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session* s = greedy_session(m, 64, 0);
  int32_t ids[64], out[16], n, nv = -1, i, t;
  char text[1024];
  const float* logits;
  CHECK(nibble_session_logits(s, &nv) == NULL && nv == 0);
  CHECK(nibble_session_sample(s, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  n = nibble_tokenize(m, kPrompt, strlen(kPrompt), 1, 0, ids, 64, &st);
  CHECK(nibble_session_eval(s, ids, (size_t)n, &st) == 0);
  CHECK(nibble_session_tokens(s, NULL, 0) == n);
  logits = nibble_session_logits(s, &nv);
  CHECK(logits != NULL && nv == 512);
  /* Greedy by hand reproduces the story. */
  for (i = 0; i < 12; ++i) {
    logits = nibble_session_logits(s, &nv);
    t = nibble_session_sample(s, &st);
    CHECK_STATUS(st, NIBBLE_OK);
    CHECK(t == argmax(logits, nv));
    out[i] = t;
    CHECK(nibble_session_eval(s, &t, 1, &st) == 0);
  }
  CHECK(nibble_detokenize(m, out, 12, 1, text, sizeof text, &st) > 20);
  CHECK(strncmp(text, kGreedy, strlen(text)) == 0);
  CHECK(nibble_session_tokens(s, ids, 64) == n + 12);
  /* Truncate, bad ids, context full, NULLs. */
  CHECK(nibble_session_truncate(s, 3, &st) == 0);
  CHECK(nibble_session_tokens(s, NULL, 0) == 3);
  CHECK(nibble_session_logits(s, NULL) == NULL);
  CHECK(nibble_session_truncate(s, 99, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  ids[0] = 512;
  CHECK(nibble_session_eval(s, ids, 1, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  for (i = 0; i < 64; ++i) ids[i] = 5;
  CHECK(nibble_session_eval(s, ids, 64, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_CONTEXT_FULL);
  CHECK(nibble_session_eval(s, NULL, 1, &st) == -1);
  CHECK(nibble_session_eval(NULL, ids, 1, &st) == -1);
  CHECK(nibble_session_sample(NULL, &st) == -1);
  CHECK(nibble_session_truncate(NULL, 0, &st) == -1);
  CHECK(nibble_session_logits(NULL, &nv) == NULL);
  CHECK(nibble_session_tokens(NULL, ids, 64) == 0);
  nibble_session_free(s);
  nibble_model_free(m);
}

static void case_state(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_session* a = greedy_session(m, 256, 0);
  nibble_session* b = greedy_session(m, 256, 0);
  nibble_session* c = greedy_session(m, 128, 0);
  int32_t ids[64], n, nv, i;
  size_t size, got;
  unsigned char* buf;
  const float *la, *lb;
  char path[512];
  n = nibble_tokenize(m, "Once upon a time, there was a little girl", 41, 1, 0, ids, 64, &st);
  CHECK(nibble_session_eval(a, ids, (size_t)n, &st) == 0);
  size = nibble_session_state_save(a, NULL, 0, &st);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(size > 0);
  buf = (unsigned char*)malloc(size);
  CHECK(nibble_session_state_save(a, buf, size - 1, &st) == size);
  CHECK_STATUS(st, NIBBLE_ERR_BUFFER_TOO_SMALL);
  got = nibble_session_state_save(a, buf, size, &st);
  CHECK(got == size);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(nibble_session_state_load(b, buf, size, &st) == 0);
  CHECK_STATUS(st, NIBBLE_OK);
  /* Bit-identical logits after the restore, and on the next tokens. */
  for (i = 0; i < 6; ++i) {
    int32_t t;
    la = nibble_session_logits(a, &nv);
    lb = nibble_session_logits(b, NULL);
    CHECK(la && lb && memcmp(la, lb, (size_t)nv * sizeof(float)) == 0);
    t = nibble_session_sample(a, &st);
    CHECK(t == nibble_session_sample(b, &st));
    CHECK(nibble_session_eval(a, &t, 1, &st) == 0 && nibble_session_eval(b, &t, 1, &st) == 0);
  }
  /* Other n_ctx, other model, damaged bytes: refused (another KV type: tests/api C++). */
  CHECK(nibble_session_state_load(c, buf, size, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_STATE_MISMATCH);
  {
    nibble_model* other = nibble_model_load(other_path, NULL, &st);
    nibble_session* o;
    CHECK(other != NULL);
    o = greedy_session(other, 256, 0);
    CHECK(nibble_session_state_load(o, buf, size, &st) == -1);
    CHECK_STATUS(st, NIBBLE_ERR_STATE_MISMATCH);
    nibble_session_free(o);
    nibble_model_free(other);
  }
  CHECK(nibble_session_state_load(b, buf, size / 2, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  buf[1] ^= 0x20;
  CHECK(nibble_session_state_load(b, buf, size, &st) == -1);
  CHECK(strstr(st.message, "magic") != NULL);
  buf[1] ^= 0x20;
  CHECK(nibble_session_state_load(b, NULL, size, &st) == -1);
  CHECK(nibble_session_state_load(NULL, buf, size, &st) == -1);
  CHECK(nibble_session_state_save(NULL, buf, size, &st) == 0);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  /* Files. */
  snprintf(path, sizeof path, "%s/nibble_c_state_%d.bin", NIBBLE_TEST_TMP, (int)size);
  CHECK(nibble_session_state_save_file(a, path, &st) == 0);
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(nibble_session_state_load_file(c, path, &st) == -1);
  CHECK(strstr(st.message, path) != NULL);
  CHECK(nibble_session_state_load_file(b, path, &st) == 0);
  CHECK(nibble_session_tokens(a, NULL, 0) == nibble_session_tokens(b, NULL, 0));
  remove(path);
  CHECK(nibble_session_state_load_file(b, path, &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_IO);
  CHECK(nibble_session_state_save_file(a, "/nonexistent/dir/state.bin", &st) == -1);
  CHECK_STATUS(st, NIBBLE_ERR_IO);
  CHECK(nibble_session_state_save_file(a, NULL, &st) == -1);
  CHECK(nibble_session_state_load_file(NULL, path, &st) == -1);
  free(buf);
  nibble_session_free(a);
  nibble_session_free(b);
  nibble_session_free(c);
  nibble_model_free(m);
}

/* Speculative decoding: prompt lookup and a draft model give the greedy text of plain
 * decoding, the statistics count drafts, bad parameters name the field. */
static void case_speculative(void) {
  nibble_status st;
  nibble_model* m = load();
  nibble_model* draft = nibble_model_load(other_path, NULL, &st);
  nibble_session_params p = nibble_session_default_params();
  nibble_session* s;
  nibble_stats stats;
  sink out;
  int i;
  CHECK_STATUS(st, NIBBLE_OK);
  CHECK(p.draft_model == NULL && p.lookup_ngram == 0 && p.n_draft == 7);
  p.n_ctx = 256;
  p.n_threads = 2;
  p.temperature = 0.0f;
  for (i = 0; i < 2; ++i) {
    p.lookup_ngram = i == 0 ? 3 : 0;
    p.draft_model = i == 0 ? NULL : draft;
    s = nibble_session_create(m, &p, &st);
    CHECK_STATUS(st, NIBBLE_OK);
    if (!s) continue;
    memset(&out, 0, sizeof out);
    CHECK(nibble_generate(s, kPrompt, 40, collect, &out, &st) == 40);
    CHECK(strncmp(out.text, kGreedy, strlen(kGreedy)) == 0);
    stats = nibble_session_get_stats(s);
    CHECK(stats.generated_tokens == 40 && stats.draft_tokens > 0);
    CHECK(stats.accepted_tokens <= stats.draft_tokens);
    if (i == 1) CHECK(stats.accepted_tokens > 0); /* the same weights in f16 */
    CHECK(stats.decode_passes > 0 && stats.decode_passes < 40);
    CHECK(stats.decode_passes + stats.accepted_tokens >= 39);
    nibble_session_free(s);
  }
  p = nibble_session_default_params();
  p.lookup_ngram = 3;
  p.n_draft = 0;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(st.message, "n_draft") != NULL);
  p = nibble_session_default_params();
  p.lookup_ngram = 17;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK(strstr(st.message, "lookup_ngram") != NULL);
  p.lookup_ngram = 2;
  p.draft_model = draft;
  CHECK(nibble_session_create(m, &p, &st) == NULL);
  CHECK_STATUS(st, NIBBLE_ERR_INVALID_ARGUMENT);
  nibble_model_free(draft);
  nibble_model_free(m);
}

int main(int argc, char** argv) {
  const char* name;
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL OTHER_MODEL CASE\n", argv[0]);
    return 2;
  }
  model_path = argv[1];
  other_path = argv[2];
  name = argv[3];
  if (!strcmp(name, "version")) case_version();
  else if (!strcmp(name, "model_load")) case_model_load();
  else if (!strcmp(name, "model_progress")) case_model_progress();
  else if (!strcmp(name, "tokenize")) case_tokenize();
  else if (!strcmp(name, "session_params")) case_session_params();
  else if (!strcmp(name, "generate")) case_generate();
  else if (!strcmp(name, "chat")) case_chat();
  else if (!strcmp(name, "cancel")) case_cancel();
  else if (!strcmp(name, "token_level")) case_token_level();
  else if (!strcmp(name, "state")) case_state();
  else if (!strcmp(name, "speculative")) case_speculative();
  else {
    fprintf(stderr, "unknown case %s\n", name);
    return 2;
  }
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
