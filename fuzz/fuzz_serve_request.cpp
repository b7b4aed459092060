// libFuzzer target for `nibble serve`'s request path (tools/serve/), with a fake model backend.
//
// Input: byte 0 picks the mode, the rest is
//   mode 0: raw bytes of an HTTP request, through cpp-httplib's request parser into the
//           server's routes (authentication with the key "k", 404s, body limit of 64 KiB);
//   mode 1: a JSON body, framed as POST /v1/chat/completions and run through the whole server
//           (parse, validation, tools, constraint, slot, generation, SSE when stream is set);
//   mode 2: the same for POST /v1/completions;
//   mode 3: the body straight into parse_json + both request parsers.
// Checks: no crash, no sanitizer report; every response is HTTP, with a JSON error body unless
// it is a 2xx; every rejected request body gets an ApiError with a message.
#include <httplib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "backend.h"
#include "server.h"

namespace {

using namespace nibble::serve;

// Tokens are the bytes of the text; generation emits "ab" pieces up to max_tokens (at most 8).
class FakeBackend final : public Backend {
 public:
  std::string model_id() const override { return "fuzz"; }
  int n_ctx() const override { return 256; }
  int n_slots() const override { return 1; }
  std::variant<std::vector<int32_t>, ApiError> chat_prompt(
      const std::vector<Message>& messages) override {
    std::string all;
    for (const auto& m : messages) all += m.role + m.content;
    return std::vector<int32_t>(all.begin(), all.end());
  }
  std::variant<std::vector<int32_t>, ApiError> text_prompt(const std::string& prompt) override {
    return std::vector<int32_t>(prompt.begin(), prompt.end());
  }
  std::variant<std::shared_ptr<const CompiledConstraint>, ApiError> compile(
      const Constraint& c) override {
    if (c.kind == Constraint::Kind::json_schema && c.schema.contains("not"))
      return bad_param("response_format", "unsupported keyword not");
    return std::shared_ptr<const CompiledConstraint>();
  }
  std::optional<ApiError> check_params(const GenerationParams& p) const override {
    for (const auto& [id, bias] : p.sampling.logit_bias)
      if (id >= 1000) return bad_param("logit_bias", "token outside the vocabulary");
    return std::nullopt;
  }
  size_t cached_prefix(int, std::span<const int32_t>) const override { return 0; }
  std::variant<GenerateResult, ApiError> generate(int, const GenerateRequest& req,
                                                  const PieceSink& sink) override {
    GenerateResult r;
    r.finish_reason = "length";
    const int n = std::min(req.params.max_tokens.value_or(8), 8);
    for (int i = 0; i < n; ++i) {
      r.text += "ab";
      ++r.usage.completion_tokens;
      if (!sink("ab")) {
        r.finish_reason = "cancelled";
        break;
      }
    }
    r.usage.prompt_tokens = static_cast<int>(req.prompt.size());
    return r;
  }
};

// The request as a stream: reads come from the input, writes are kept (bounded).
class MemoryStream final : public httplib::Stream {
 public:
  explicit MemoryStream(std::string_view in) : in_(in) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (out.size() < (1u << 20)) out.append(ptr, std::min(size, (1u << 20) - out.size()));
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return 0; }
  std::string out;

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

class FuzzServer final : public httplib::Server {
 public:
  std::string handle(std::string_view request) {
    MemoryStream s(request);
    bool closed = false;
    process_request(s, /*close_connection=*/true, closed, nullptr);
    return std::move(s.out);
  }
};

struct Fixture {
  FakeBackend backend;
  Api open{backend, options("")};
  Api keyed{backend, options("k")};
  FuzzServer open_server, keyed_server;
  Fixture() {
    open.install(open_server);
    keyed.install(keyed_server);
  }
  static ServerOptions options(std::string key) {
    ServerOptions o;
    o.api_key = std::move(key);
    o.max_body_bytes = 64 * 1024;
    o.max_queue = 0;
    return o;
  }
};

void check_response(std::string_view request, const std::string& out) {
  if (out.empty()) return;  // httplib gave up on the request (e.g. unreadable request line)
  if (out.rfind("HTTP/1.1 ", 0) != 0) std::abort();
  if (request.rfind("HEAD ", 0) == 0) return;  // headers only, by definition
  const bool ok = out.rfind("HTTP/1.1 2", 0) == 0;  // 200, or 206 for a Range header
  if (!ok && out.find("{\"error\":{") == std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static Fixture* fx = new Fixture();  // lives for the process (the servers own threads' state)
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      check_response(rest, fx->keyed_server.handle(rest));
      break;
    case 1:
    case 2: {
      const char* path = data[0] % 4 == 1 ? "/v1/chat/completions" : "/v1/completions";
      std::string req = std::string("POST ") + path +
                        " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: " + std::to_string(rest.size()) + "\r\n\r\n";
      req.append(rest);
      check_response(req, fx->open_server.handle(req));
      break;
    }
    default: {
      Limits limits;
      auto doc = parse_json(rest, limits);
      if (auto* e = std::get_if<ApiError>(&doc)) {
        if (e->message.empty()) std::abort();
        break;
      }
      const json& j = std::get<json>(doc);
      auto chat = parse_chat_request(j, limits);
      if (auto* e = std::get_if<ApiError>(&chat); e && e->message.empty()) std::abort();
      auto text = parse_completion_request(j, limits);
      if (auto* e = std::get_if<ApiError>(&text); e && e->message.empty()) std::abort();
      (void)dump(j);
    }
  }
  return 0;
}
