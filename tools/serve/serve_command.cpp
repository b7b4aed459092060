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

struct Flags {
  std::string model, host = "127.0.0.1", model_id;
  int port = 8080;
  serve::ModelBackendOptions backend;
  serve::ServerOptions server;
  ModelOptions model_options;
};

// Declares serve's options on `app`, bound to `f`.
void add_flags(CLI::App& app, Flags& f) {
  app.add_option("-m,--model", f.model, "model file")->required()->type_name("MODEL.gguf");
  app.add_option("--host", f.host, "address to listen on")->capture_default_str();
  app.add_option("--port", f.port, "port (0 picks a free one; the line 'listening on "
                                   "http://HOST:PORT' tells which)")
      ->check(in_range(0, 65535))->capture_default_str();
  app.add_option("--parallel", f.backend.n_slots,
                 "slots: requests generated at once, each with its own KV cache")
      ->check(in_range(1, 256))->capture_default_str();
  app.add_option("-c,--ctx", f.backend.n_ctx, "context per slot (0: the model's, capped at 4096)")
      ->check(in_range(0, 1 << 30))->capture_default_str();
  app.add_option("-t,--threads", f.backend.n_threads, "compute threads per slot (0: cores / slots)")
      ->check(in_range(0, 1 << 30))->capture_default_str();
  app.add_option("--queue", f.server.max_queue, "requests waiting for a slot before 429")
      ->check(in_range(0, 100000))->capture_default_str();
  app.add_option("--max-body", f.server.max_body_bytes,
                 "largest request body in bytes; larger is 413")
      ->check(in_range(1024, 1LL << 40))->capture_default_str();
  app.add_option("--model-id", f.backend.model_id, "model name the API reports (default: the "
                                                   "file name without .gguf)");
  app.add_option("--isa", f.model_options.isa, "cap the kernels' instruction set");
  app.add_option("--api-key", f.server.api_key,
                 "require 'Authorization: Bearer KEY' (NIBBLE_API_KEY in the environment works "
                 "too); /health stays open")
      ->envname("NIBBLE_API_KEY");
  app.add_flag("-v,--verbose", f.server.log_requests, "log every request to stderr");
}

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0)
    name.resize(name.size() - 5);
  return name;
}

int run_serve(Flags& f) {
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

Runner setup_serve(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  add_flags(app, *f);
  return [f] { return run_serve(*f); };
}

}  // namespace

NIBBLE_COMMAND(serve, "OpenAI-compatible HTTP server (chat, completions, streaming)", setup_serve);

}  // namespace nibble::cli
