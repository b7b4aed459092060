// nibble-chat: interactive multi-turn chat in a terminal.
//   nibble-chat -m MODEL.gguf [--system TEXT] [-n N] [sampling flags] [--threads N] [--ctx N]
// Streams answers; Ctrl-C stops the current answer, a second Ctrl-C (or one at the prompt) quits.
// Commands: /reset, /stats, /help, /quit. When stdin is not a terminal it reads the conversation as
// a script, one user message per line.
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "console.h"
#include "nibble/nibble.h"
#include "sampling_flags.h"

namespace {

std::atomic<nibble::Session*> g_session{nullptr};
std::atomic<bool> g_generating{false};
std::atomic<bool> g_cancel_sent{false};

// Ctrl-C during an answer stops it; a second Ctrl-C before it has stopped, or one at the
// prompt, quits.
void on_ctrl_c() {
  if (g_generating.load() && !g_cancel_sent.exchange(true)) {
    if (auto* s = g_session.load()) s->cancel();  // an atomic store: async-signal-safe
    return;
  }
  chat::quit_now();
}

void help() {
  fmt::print(
      "commands: /reset (forget the conversation)  /stats (last answer and memory)\n"
      "          /help  /quit    Ctrl-C stops an answer; a second Ctrl-C, or one at the prompt, "
      "quits.\n");
}

// The conversation: reads user lines (and commands) until end of input or /quit.
void converse(nibble::Session& session, const nibble::ModelInfo& info,
              const nibble::GenerateOptions& g, const std::string& system, bool tty) {
  using namespace nibble;
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  Stats last;
  std::string line;
  while (true) {
    if (tty) fmt::print("\n> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/help") {
      help();
      continue;
    }
    if (line == "/reset") {
      messages.resize(system.empty() ? 0 : 1);
      session.reset();
      fmt::print("(conversation reset)\n");
      continue;
    }
    if (line == "/stats") {
      fmt::print(
          "last answer: {} prompt tokens ({} reused from the cache), {} generated, first "
          "token {:.1f} ms, prefill {:.1f} tok/s, decode {:.1f} tok/s, stop: {}\n"
          "context: {}/{} tokens, KV cache {:.1f} MiB, weights {:.1f} MiB\n",
          last.prompt_tokens, last.reused_tokens, last.generated_tokens,
          last.time_to_first_token_ms, last.prefill_tokens_per_s, last.decode_tokens_per_s,
          stop_reason_name(last.stop_reason), session.tokens().size(), session.n_ctx(),
          session.kv_bytes() / 1048576.0, info.weight_bytes / 1048576.0);
      continue;
    }
    if (!tty) fmt::print("> {}\n", line);
    messages.push_back({"user", line});
    std::string answer;
    g_cancel_sent.store(false);
    g_generating.store(true);
    auto stats = session.chat(messages, g, [&](std::string_view t) {
      answer.append(t);
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    g_generating.store(false);
    fmt::print("\n");
    if (!stats) {
      fmt::print(stderr, "nibble-chat: {}\n", stats.error().to_string());
      messages.pop_back();
      if (stats.error().code() == ErrorCode::context_full) fmt::print("(try /reset)\n");
      continue;
    }
    last = *stats;
    if (last.stop_reason == StopReason::cancelled) fmt::print("(stopped)\n");
    messages.push_back({"assistant", answer});
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nibble;
  std::string path, positional_path, system;
  GenerateOptions g;
  g.max_tokens = 256;
  ModelOptions mo;
  SessionOptions so;
  so.n_ctx = 2048;
  CLI::App app("interactive chat in a terminal; Ctrl-C stops an answer, a second one quits",
               "nibble-chat");
  auto* m_opt = app.add_option("-m,--model", path, "model file")->type_name("MODEL.gguf");
  app.add_option("model", positional_path, "the model file, as -m")->type_name("MODEL.gguf")
      ->excludes(m_opt);
  app.add_option("--system", system, "system message");
  app.add_option("-n,--max-tokens", g.max_tokens, "tokens per answer at most")->capture_default_str();
  app.add_option("--isa", mo.isa, "cap the kernels' instruction set");
  cli::add_session_flags(app, so);
  app.footer("Commands: /reset, /stats, /help, /quit. When stdin is not a terminal the "
             "conversation is read as a script, one user message per line.");
  if (auto code = cli::parse(app, std::vector<std::string>(argv + 1, argv + argc))) return *code;
  if (path.empty()) path = positional_path;
  if (path.empty()) return cli::usage_error(app, "missing -m MODEL.gguf");

  auto model = Model::load(path, mo);
  if (!model) {
    fmt::print(stderr, "nibble-chat: cannot use model '{}': {}\n", path,
               model.error().to_string());
    return 1;
  }
  auto session = Session::create(*model, so);
  if (!session) {
    fmt::print(stderr, "nibble-chat: {}\n", session.error().to_string());
    return 1;
  }
  const auto info = model->info();
  chat::use_utf8_console();
  const bool tty = chat::stdin_is_terminal();
  fmt::print("nibble-chat: {} ({}), context {}, kernels {}{}\n", info.name, info.architecture,
             session->n_ctx(), info.isa, info.has_chat_template ? "" : ", built-in chat template");
  fmt::print("memory: weights {:.1f} MiB, KV cache {:.1f} MiB, scratch {:.1f} MiB\n",
             info.weight_bytes / 1048576.0, session->kv_bytes() / 1048576.0,
             session->scratch_bytes() / 1048576.0);
  if (tty) help();
  g_session.store(&*session);
  chat::on_interrupt(on_ctrl_c);

  converse(*session, info, g, system, tty);
  g_session.store(nullptr);
  return 0;
}
