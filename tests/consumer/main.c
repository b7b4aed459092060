/* A C application of the installed nibble (only nibble/nibble_c.h): streams a completion. */
#include <stdio.h>

#include "nibble/nibble_c.h"

static int print_text(const char* utf8, size_t len, void* user_data) {
  (void)user_data;
  fwrite(utf8, 1, len, stdout);
  return 0;
}

int main(int argc, char** argv) {
  nibble_status st;
  nibble_model* model;
  nibble_session* session;
  nibble_session_params sp = nibble_session_default_params();
  int n;
  if (argc < 2) return 2;
  model = nibble_model_load(argv[1], NULL, &st);
  if (!model) {
    fprintf(stderr, "%s\n", st.message);
    return 1;
  }
  sp.temperature = 0.0f;
  session = nibble_session_create(model, &sp, &st);
  if (!session) return 1;
  printf("nibble %s: Once upon a time", nibble_version());
  n = nibble_generate(session, "Once upon a time", 40, print_text, NULL, &st);
  printf("\n");
  nibble_session_free(session);
  nibble_model_free(model);
  return n == 40 ? 0 : 1;
}
