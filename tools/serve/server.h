// The HTTP side of `nibble serve` on cpp-httplib: routes, authentication, limits, queueing
// into slots, streaming as server-sent events. Model-free (a Backend does the generation).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "backend.h"
#include "protocol.h"
#include "slots.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace nibble::serve {

struct ServerOptions {
  std::string api_key;                  // empty: no authentication
  size_t max_body_bytes = 4u << 20;     // larger bodies: 413
  int max_queue = 32;                   // requests waiting for a slot; more: 429
  std::chrono::milliseconds max_wait{std::chrono::minutes(10)};  // in the queue; then 503
  int n_http_threads = 0;               // 0: slots + max_queue + 8
  bool log_requests = false;            // one line per request on stderr
  Limits limits;
};

class Api {
 public:
  Api(Backend& backend, ServerOptions options);
  // Routes, error handlers, body limit and worker threads on `server`.
  void install(httplib::Server& server);
  // Ends running generations at their next token and refuses new ones (before server.stop()).
  void shutdown();
  const SlotPool& slots() const { return slots_; }

 private:
  void chat(const httplib::Request& req, httplib::Response& res);
  void completions(const httplib::Request& req, httplib::Response& res);
  void models(const httplib::Request& req, httplib::Response& res);
  void health(const httplib::Request& req, httplib::Response& res);
  bool authorized(const httplib::Request& req, httplib::Response& res) const;
  bool headers_within_bounds(const httplib::Request& req, httplib::Response& res) const;
  static constexpr size_t kMaxHeaders = 128;
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  // Waits for a slot, preferring the one whose KV cache shares the longest prefix.
  std::unique_ptr<SlotPool::Lease> take_slot(const std::vector<int32_t>& prompt,
                                             httplib::Response& res);
  std::optional<ApiError> check_context(size_t prompt_tokens) const;
  Envelope envelope(const char* prefix);

  Backend& backend_;
  ServerOptions options_;
  SlotPool slots_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{0};
  std::atomic<uint64_t> cancelled_{0};  // streams ended early because the client went away
  uint64_t id_base_;
  int64_t started_;
};

// Writes an error response.
void send_error(httplib::Response& res, const ApiError& e);

}  // namespace nibble::serve
