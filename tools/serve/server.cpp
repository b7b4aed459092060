// Routes, authentication, error bodies, limits and slot queueing of `nibble serve`. The
// generation endpoints are in server_generate.cpp.
#include "server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <random>

namespace nibble::serve {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(dump(error_body(e)), "application/json");
}

namespace {

ApiError status_error(int status, std::string message, std::string type, std::string code) {
  ApiError e;
  e.status = status;
  e.message = std::move(message);
  e.type = std::move(type);
  e.code = std::move(code);
  return e;
}

// Compares without an early exit, so the time taken does not tell how much of the key matched.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ (i < b.size() ? b[i] : 0);
  return diff == 0;
}

// cpp-httplib 0.11.4 applies a Range header to every response body, error bodies included
// (a client asking for bytes=0-1 got '{"' with a 401); an API has no use for ranges, so they
// are dropped before any response is written. The Request is httplib's own non-const local
// that it hands out as const, so clearing the field is defined.
void ignore_ranges(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Api::Api(Backend& backend, ServerOptions options)
    : backend_(backend),
      options_(std::move(options)),
      slots_(backend.n_slots(), options_.max_queue),
      id_base_(std::random_device{}() * 0x9E3779B97F4A7C15ull),
      started_(unix_now()) {}

Envelope Api::envelope(const char* prefix) {
  char id[48];
  std::snprintf(id, sizeof id, "%s-%016llx", prefix,
                static_cast<unsigned long long>(id_base_ + next_id_.fetch_add(1)));
  return Envelope{id, unix_now(), backend_.model_id()};
}

void Api::shutdown() {
  stopping_.store(true);
  slots_.shutdown();
}

bool Api::authorized(const httplib::Request& req, httplib::Response& res) const {
  if (options_.api_key.empty() || req.path == "/health") return true;
  const std::string auth = req.get_header_value("Authorization");
  const std::string want = "Bearer " + options_.api_key;
  if (same_secret(auth, want)) return true;
  send_error(res, status_error(401,
                               auth.empty() ? "missing API key (Authorization: Bearer <key>)"
                                            : "incorrect API key provided",
                               "invalid_request_error", "invalid_api_key"));
  return false;
}

// cpp-httplib 0.11.4 bounds each header line (8 KiB) but not their number; requests with more
// than these are refused before any handler sees them (docs/serve.md, "Limits").
bool Api::headers_within_bounds(const httplib::Request& req, httplib::Response& res) const {
  size_t bytes = 0;
  for (const auto& [k, v] : req.headers) bytes += k.size() + v.size() + 4;
  if (req.headers.size() <= kMaxHeaders && bytes <= kMaxHeaderBytes) return true;
  send_error(res, status_error(431,
                               "request headers exceed " + std::to_string(kMaxHeaders) +
                                   " fields or " + std::to_string(kMaxHeaderBytes) + " bytes",
                               "invalid_request_error", "headers_too_large"));
  return false;
}

std::optional<ApiError> Api::check_context(size_t prompt_tokens) const {
  const int n_ctx = backend_.n_ctx();
  if (prompt_tokens < static_cast<size_t>(n_ctx)) return std::nullopt;
  ApiError e = status_error(
      400,
      "this model's context is " + std::to_string(n_ctx) + " tokens; the prompt has " +
          std::to_string(prompt_tokens) + " tokens (at least one must be left for the answer)",
      "invalid_request_error", "context_length_exceeded");
  e.param = "messages";
  return e;
}

std::unique_ptr<SlotPool::Lease> Api::take_slot(const std::vector<int32_t>& prompt,
                                                httplib::Response& res) {
  auto got = slots_.acquire(
      [&](int slot) { return backend_.cached_prefix(slot, prompt); }, options_.max_wait);
  if (got.lease) return std::move(got.lease);
  switch (got.refusal) {
    case SlotPool::Refusal::queue_full:
      res.set_header("Retry-After", "1");
      send_error(res, status_error(429,
                                   "the server is busy: every slot is in use and the queue of " +
                                       std::to_string(options_.max_queue) + " is full",
                                   "requests", "rate_limit_exceeded"));
      break;
    case SlotPool::Refusal::timeout:
      send_error(res, status_error(503, "no slot became free in time", "server_error",
                                   "timeout"));
      break;
    default:
      send_error(res, status_error(503, "the server is shutting down", "server_error",
                                   "shutting_down"));
  }
  return nullptr;
}

void Api::models(const httplib::Request&, httplib::Response& res) {
  json model = {{"id", backend_.model_id()},
                {"object", "model"},
                {"created", started_},
                {"owned_by", "nibble"}};
  res.set_content(dump(json{{"object", "list"}, {"data", json::array({model})}}),
                  "application/json");
}

void Api::health(const httplib::Request&, httplib::Response& res) {
  const auto c = slots_.counts();
  res.set_content(dump(json{{"status", stopping_.load() ? "stopping" : "ok"},
                            {"model", backend_.model_id()},
                            {"n_ctx", backend_.n_ctx()},
                            {"slots", c.slots},
                            {"slots_busy", c.busy},
                            {"queue", c.waiting},
                            {"max_queue", c.max_queue},
                            {"served", c.served},
                            {"rejected", c.rejected},
                            {"cancelled", cancelled_.load()}}),
                  "application/json");
}

void Api::install(httplib::Server& server) {
  const int threads = options_.n_http_threads > 0
                          ? options_.n_http_threads
                          : backend_.n_slots() + options_.max_queue + 8;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options_.max_body_bytes);
  server.set_keep_alive_timeout(2);  // idle connections also delay a shutdown this long
  server.set_read_timeout(10);
  server.set_write_timeout(30);
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ignore_ranges(req);
    if (!headers_within_bounds(req, res) || !authorized(req, res))
      return httplib::Server::HandlerResponse::Handled;
    return httplib::Server::HandlerResponse::Unhandled;
  });
  using Handler = httplib::Server::Handler;
  auto route = [this](void (Api::*fn)(const httplib::Request&, httplib::Response&)) {
    return Handler([this, fn](const httplib::Request& req, httplib::Response& res) {
      (this->*fn)(req, res);
    });
  };
  server.Post("/v1/chat/completions", route(&Api::chat));
  server.Post("/v1/completions", route(&Api::completions));
  server.Get("/v1/models", route(&Api::models));
  server.Get("/health", route(&Api::health));
  // Statuses httplib sets itself (404, 413, 400 for a malformed request...) get an OpenAI
  // error body; responses that already have one keep it.
  using HandlerWithResponse = httplib::Server::HandlerWithResponse;
  server.set_error_handler(HandlerWithResponse([this](const httplib::Request& req,
                                                      httplib::Response& res) {
    ignore_ranges(req);
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404)
      send_error(res, status_error(404, "no route " + req.method + " " + req.path,
                                   "invalid_request_error", "not_found"));
    else if (res.status == 413)
      send_error(res, status_error(413,
                                   "request body larger than " +
                                       std::to_string(options_.max_body_bytes) + " bytes",
                                   "invalid_request_error", "request_too_large"));
    else
      send_error(res, status_error(res.status,
                                   "HTTP " + std::to_string(res.status) +
                                       ": malformed or unsupported HTTP request",
                                   "invalid_request_error", "bad_request"));
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        send_error(res, status_error(500, what, "server_error", "internal_error"));
      });
  if (options_.log_requests)
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
}

}  // namespace nibble::serve
