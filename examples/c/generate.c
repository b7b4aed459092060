/* The C API in one small program: load a model, stream a completion, then drive the tokens
 * by hand and keep the prompt in a state buffer (a prompt cache).
 *   nibble-example-c MODEL.gguf [PROMPT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nibble/nibble_c.h"

static int print_text(const char* utf8, size_t len, void* user_data) {
  (void)user_data;
  fwrite(utf8, 1, len, stdout);
  fflush(stdout);
  return 0; /* non-zero would stop */
}

int main(int argc, char** argv) {
  nibble_status st;
  const char* prompt = argc > 2 ? argv[2] : "Once upon a time";
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf [PROMPT]\n", argv[0]);
    return 2;
  }
  printf("nibble %s\n", nibble_version());

  nibble_model* model = nibble_model_load(argv[1], NULL, &st);
  if (!model) {
    fprintf(stderr, "error: %s\n", st.message);
    return 1;
  }
  nibble_session_params sp = nibble_session_default_params();
  sp.temperature = 0.0f; /* greedy: the same text on every run */
  nibble_session* session = nibble_session_create(model, &sp, &st);
  if (!session) {
    fprintf(stderr, "error: %s\n", st.message);
    nibble_model_free(model);
    return 1;
  }

  /* 1. Streaming. */
  fputs(prompt, stdout);
  if (nibble_generate(session, prompt, 40, print_text, NULL, &st) < 0) {
    fprintf(stderr, "\nerror: %s\n", st.message);
  }
  nibble_stats stats = nibble_session_get_stats(session);
  printf("\n[%d tokens, %.1f tokens/s]\n", stats.generated_tokens, stats.decode_tokens_per_s);

  /* 2. Token level: tokenize, evaluate, save the state, sample and decode by hand. */
  nibble_session_reset(session);
  int32_t ids[256];
  int32_t n = nibble_tokenize(model, prompt, strlen(prompt), 1, 0, ids, 256, &st);
  if (n < 0 || n > 256 || nibble_session_eval(session, ids, (size_t)n, &st) != 0) {
    fprintf(stderr, "error: %s\n", st.message);
  } else {
    size_t size = nibble_session_state_save(session, NULL, 0, &st);
    void* state = malloc(size);
    if (state && nibble_session_state_save(session, state, size, &st) == size) {
      printf("prompt state: %zu bytes\n", size);
      int i;
      fputs(prompt, stdout);
      for (i = 0; i < 8; ++i) {
        char piece[64];
        int32_t t = nibble_session_sample(session, &st);
        if (t < 0 || nibble_token_is_eog(model, t)) break;
        nibble_detokenize(model, &t, 1, 1, piece, sizeof piece, &st);
        fputs(piece, stdout);
        if (nibble_session_eval(session, &t, 1, &st) != 0) break;
      }
      putchar('\n');
      /* Back to the end of the prompt without evaluating it again. */
      if (nibble_session_state_load(session, state, size, &st) != 0)
        fprintf(stderr, "error: %s\n", st.message);
    }
    free(state);
  }

  nibble_session_free(session);
  nibble_model_free(model);
  return 0;
}
