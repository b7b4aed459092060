/* The C API's constrained decoding: nibble_session_set_grammar with each kind, errors with
 * their line and column, and generated text that follows the grammar. */
#include <stdio.h>
#include <string.h>

#include "nibble/nibble_c.h"

typedef struct {
  char text[4096];
  size_t len;
} buffer;

static int collect(const char* utf8, size_t len, void* user_data) {
  buffer* b = (buffer*)user_data;
  if (b->len + len < sizeof b->text) {
    memcpy(b->text + b->len, utf8, len);
    b->len += len;
    b->text[b->len] = '\0';
  }
  return 0;
}

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                    \
    }                                                              \
  } while (0)

int main(int argc, char** argv) {
  nibble_status st;
  nibble_model* model;
  nibble_session* session;
  nibble_session_params sp;
  buffer b;
  const char* schema =
      "{\"type\":\"object\",\"properties\":{\"color\":{\"enum\":[\"red\",\"blue\"]},"
      "\"count\":{\"type\":\"integer\"}},\"required\":[\"color\",\"count\"],"
      "\"additionalProperties\":false}";
  const char* gbnf = "root ::= \"yes\" | \"no\"";
  const char* bad = "root ::= \"a\"\nx ::= [b-";
  uint64_t seed;
  if (argc < 2) return 2;
  model = nibble_model_load(argv[1], NULL, &st);
  CHECK(model != NULL);
  sp = nibble_session_default_params();
  sp.n_ctx = 256;
  sp.n_threads = 1;
  sp.temperature = 1.5f;
  session = nibble_session_create(model, &sp, &st);
  CHECK(session != NULL);

  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_GBNF, bad, strlen(bad), &st) == -1);
  CHECK(st.code == NIBBLE_ERR_INVALID_ARGUMENT);
  CHECK(strstr(st.message, "grammar:2:7") != NULL);
  CHECK(nibble_session_set_grammar(session, 99, NULL, 0, &st) == -1);
  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_GBNF, NULL, 0, &st) == -1);
  CHECK(nibble_session_set_grammar(NULL, NIBBLE_GRAMMAR_NONE, NULL, 0, &st) == -1);

  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_GBNF, gbnf, strlen(gbnf), &st) == 0);
  memset(&b, 0, sizeof b);
  CHECK(nibble_generate(session, "Once upon a time", 16, collect, &b, &st) >= 0);
  CHECK(strcmp(b.text, "yes") == 0 || strcmp(b.text, "no") == 0);
  CHECK(nibble_session_get_stats(session).stop_reason == NIBBLE_STOP_END_OF_GENERATION);

  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_JSON_SCHEMA, schema, strlen(schema),
                                   &st) == 0);
  for (seed = 0; seed < 4; ++seed) {
    nibble_session_free(session);
    sp.seed = seed;
    session = nibble_session_create(model, &sp, &st);
    CHECK(session != NULL);
    CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_JSON_SCHEMA, schema,
                                     strlen(schema), &st) == 0);
    memset(&b, 0, sizeof b);
    CHECK(nibble_generate(session, "Once upon a time", 64, collect, &b, &st) >= 0);
    CHECK(b.text[0] == '{' && b.text[b.len - 1] == '}');
    CHECK(strstr(b.text, "\"color\"") != NULL && strstr(b.text, "\"count\"") != NULL);
    CHECK(strstr(b.text, "\"red\"") != NULL || strstr(b.text, "\"blue\"") != NULL);
  }

  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_JSON_OBJECT, NULL, 0, &st) == 0);
  memset(&b, 0, sizeof b);
  CHECK(nibble_generate(session, "Once upon a time", 48, collect, &b, &st) >= 0);
  CHECK(b.text[0] == '{' && b.text[b.len - 1] == '}');

  CHECK(nibble_session_set_grammar(session, NIBBLE_GRAMMAR_NONE, NULL, 0, &st) == 0);
  nibble_session_free(session);
  nibble_model_free(model);
  printf("ok\n");
  return 0;
}
