// nibble serve -m MODEL.gguf [--host H] [--port P] [--parallel N] [--ctx N] [--api-key KEY]
// An OpenAI-compatible HTTP server (docs/serve.md). Host builds only (cpp-httplib).
#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "backend.h"
#include "tools/nibble/command.h"
#include "nibble/nibble.h"
#include "server.h"

namespace nibble::cli {
namespace {

constexpr const char* kServeHelp =
    "usage: nibble serve -m MODEL.gguf [--host 127.0.0.1] [--port 8080] [--parallel N]\n"
    "       [--ctx N] [--api-key KEY] [--threads N] [--queue N] [--max-body BYTES]\n"
    "       [--model-id NAME] [--isa NAME] [--verbose]\n"
    "  --parallel N   slots: requests generated at once, each with its own KV cache (1)\n"
    "  --ctx N        context per slot (0: the model's, capped at 4096)\n"
    "  --api-key KEY  require 'Authorization: Bearer KEY' (NIBBLE_API_KEY in the\n"
    "                 environment works too); /health stays open\n"
    "  --threads N    compute threads per slot (0: cores / slots)\n"
    "  --queue N      requests waiting for a slot before 429 (32)\n"
    "  --max-body N   largest request body in bytes; larger is 413 (4194304)\n"
    "  --port 0 picks a free port; the line 'listening on http://HOST:PORT' tells which.\n";

struct Flags {
  std::string model, host = "127.0.0.1", model_id;
  int port = 8080;
  serve::ModelBackendOptions backend;
  serve::ServerOptions server;
  ModelOptions model_options;
};

bool read_flags(Args& args, Flags& f) {
  if (auto v = args.value({"-m", "--model"})) f.model = *v;
  if (auto v = args.value({"--host"})) f.host = *v;
  if (auto v = args.integer({"--port"})) f.port = static_cast<int>(*v);
  if (auto v = args.integer({"--parallel", "-np"})) f.backend.n_slots = static_cast<int>(*v);
  if (auto v = args.integer({"--ctx", "-c"})) f.backend.n_ctx = static_cast<int>(*v);
  if (auto v = args.integer({"--threads", "-t"})) f.backend.n_threads = static_cast<int>(*v);
  if (auto v = args.integer({"--queue"})) f.server.max_queue = static_cast<int>(*v);
  if (auto v = args.integer({"--max-body"})) f.server.max_body_bytes = static_cast<size_t>(*v);
  if (auto v = args.value({"--model-id"})) f.backend.model_id = *v;
  if (auto v = args.value({"--isa"})) f.model_options.isa = *v;
  if (auto v = args.value({"--api-key"})) f.server.api_key = *v;
  else if (const char* env = std::getenv("NIBBLE_API_KEY"); env && *env) f.server.api_key = env;
  f.server.log_requests = args.flag({"--verbose", "-v"});
  if (f.model.empty()) args.error("missing -m MODEL.gguf");
  if (f.port < 0 || f.port > 65535) args.error("--port must be in 0..65535");
  if (f.backend.n_slots < 1 || f.backend.n_slots > 256) args.error("--parallel must be in 1..256");
  if (f.backend.n_ctx < 0) args.error("--ctx must be >= 0");
  if (f.backend.n_threads < 0) args.error("--threads must be >= 0");
  if (f.server.max_queue < 0 || f.server.max_queue > 100000)
    args.error("--queue must be in 0..100000");
  if (f.server.max_body_bytes < 1024) args.error("--max-body must be at least 1024");
  return args.finish();
}

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0)
    name.resize(name.size() - 5);
  return name;
}

int run_serve(Args& args) {
  if (args.flag({"--help", "-h"})) {
    fmt::print("{}", kServeHelp);
    return 0;
  }
  Flags f;
  if (!read_flags(args, f)) return 2;
  if (f.backend.model_id.empty()) f.backend.model_id = file_name(f.model);

  // SIGINT/SIGTERM go to one thread that stops the server; SIGPIPE (a client gone) is ignored
  // so that a failed write is an error return, not the end of the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto model = Model::load(f.model, f.model_options);
  if (!model) {
    fmt::print(stderr, "nibble serve: {}\n", model.error().to_string());
    return 1;
  }
  auto made = serve::make_model_backend(*model, f.backend);
  if (auto* err = std::get_if<std::string>(&made)) {
    fmt::print(stderr, "nibble serve: {}\n", *err);
    return 1;
  }
  auto backend = std::move(std::get<0>(made));
  serve::Api api(*backend, f.server);
  httplib::Server server;
  api.install(server);
  const int port = f.port == 0 ? server.bind_to_any_port(f.host)
                                : (server.bind_to_port(f.host, f.port) ? f.port : -1);
  if (port <= 0) {
    fmt::print(stderr, "nibble serve: cannot listen on {}:{}\n", f.host, f.port);
    return 1;
  }
  std::atomic<bool> stop_requested{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop_requested.store(true);
    api.shutdown();
    server.stop();
  });
  fmt::print("nibble serve: listening on http://{}:{} (model {}, {} slot(s), context {})\n",
             f.host, port, backend->model_id(), backend->n_slots(), backend->n_ctx());
  std::fflush(stdout);
  server.listen_after_bind();
  // listen ended by itself (not by a signal): wake the stopper so it can be joined.
  if (!stop_requested.load()) pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  fmt::print(stderr, "nibble serve: stopped ({} requests served)\n", api.slots().counts().served);
  return 0;
}

}  // namespace

NIBBLE_COMMAND(serve, "OpenAI-compatible HTTP server (chat, completions, streaming)", run_serve);

}  // namespace nibble::cli
