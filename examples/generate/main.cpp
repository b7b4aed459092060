// The whole nibble API in one small program: load a model, open a session, stream a
// completion by callback, then pull a chat answer token by token, cancel-safe, with stats.
//   nibble-example-generate MODEL.gguf [PROMPT]
#include <cstdio>
#include <string>
#include <vector>

#include "nibble/nibble.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [PROMPT]\n", argv[0]);
    return 2;
  }
  const std::string prompt = argc > 2 ? argv[2] : "Once upon a time";

  // 1. Load (memory-mapped, validated). Errors name what was wrong.
  nibble::ModelOptions mo;
  mo.progress = [](float p) { return p >= 0; };  // return false to cancel loading
  auto model = nibble::Model::load(argv[1], mo);
  if (!model) {
    std::fprintf(stderr, "error: %s\n", model.error().to_string().c_str());
    return 1;
  }
  const auto info = model->info();
  std::printf("%s (%s), %d layers, vocab %d, kernels %s\n", info.name.c_str(),
              info.architecture.c_str(), info.n_layer, info.n_vocab, info.isa.c_str());

  // 2. A session: KV cache + sampler. Several sessions may share one model across threads.
  nibble::SessionOptions so;
  so.n_ctx = 512;
  so.sampling.temperature = 0.0f;  // greedy; set > 0 with a seed for sampling
  auto session = nibble::Session::create(*model, so);
  if (!session) {
    std::fprintf(stderr, "error: %s\n", session.error().to_string().c_str());
    return 1;
  }

  // 3. Streaming by callback (return false to stop early), with a stop string.
  nibble::GenerateOptions g;
  g.max_tokens = 48;
  g.stop = {"\n\n"};
  std::printf("%s", prompt.c_str());
  auto stats = session->generate(prompt, g, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!stats) {
    std::fprintf(stderr, "\nerror: %s\n", stats.error().to_string().c_str());
    return 1;
  }
  std::printf("\n[%d tokens, first after %.1f ms, %.1f tok/s, stop: %s]\n",
              stats->generated_tokens, stats->time_to_first_token_ms, stats->decode_tokens_per_s,
              std::string(nibble::stop_reason_name(stats->stop_reason)).c_str());

  // 4. Pull style over a chat (the model's chat template, or a built-in fallback).
  std::vector<nibble::ChatMessage> chat = {{"user", prompt}};
  if (auto st = session->start_chat(chat, g); !st) {
    std::fprintf(stderr, "error: %s\n", st.error().to_string().c_str());
    return 1;
  }
  while (true) {
    auto piece = session->next();  // session->cancel() from another thread ends it early
    if (!piece || !*piece) break;
    std::fputs((*piece)->c_str(), stdout);
  }
  std::printf("\n[%d tokens]\n", session->stats().generated_tokens);
  return 0;
}
