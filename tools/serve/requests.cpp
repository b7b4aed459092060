// Request bodies of /v1/chat/completions and /v1/completions -> ChatRequest /
// CompletionRequest. Every field is type-checked before use (nlohmann's getters would throw on a
// wrong type); a failure names the parameter the way OpenAI does ("messages[2].content").
#include <cmath>
#include <limits>

#include "protocol.h"

namespace nibble::serve {
namespace {

// Thrown inside this file only; the public functions turn it into an ApiError.
struct Invalid {
  ApiError error;
};

[[noreturn]] void fail(std::string param, std::string message) {
  throw Invalid{bad_param(std::move(param), std::move(message))};
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an unknown type";
  }
}

// A field that may be absent or null; nullptr then.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

double number_in(const json& obj, const char* key, double lo, double hi, double dflt) {
  const json* v = field(obj, key);
  if (!v) return dflt;
  if (!v->is_number()) fail(key, std::string(key) + " must be a number, not " + type_name(*v));
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi))  // also rejects NaN
    fail(key, std::string(key) + " must be between " + json(lo).dump() + " and " +
                  json(hi).dump());
  return d;
}

std::optional<int64_t> integer_in(const json& obj, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer())
    fail(key, std::string(key) + " must be an integer, not " + type_name(*v));
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    fail(key, std::string(key) + " must be at most " + std::to_string(hi));
  const int64_t i = v->get<int64_t>();
  if (i < lo || i > hi)
    fail(key, std::string(key) + " must be between " + std::to_string(lo) + " and " +
                  std::to_string(hi));
  return i;
}

std::string string_of(const json& v, const std::string& param) {
  if (!v.is_string()) fail(param, param + " must be a string, not " + type_name(v));
  return v.get<std::string>();
}

bool bool_of(const json& obj, const char* key) {
  const json* v = field(obj, key);
  if (!v) return false;
  if (!v->is_boolean()) fail(key, std::string(key) + " must be a boolean, not " + type_name(*v));
  return v->get<bool>();
}

void parse_stop(const json& obj, const Limits& limits, std::vector<std::string>& out) {
  const json* v = field(obj, "stop");
  if (!v) return;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > limits.max_stop)
      fail("stop", "at most " + std::to_string(limits.max_stop) + " stop strings");
    for (size_t i = 0; i < v->size(); ++i)
      out.push_back(string_of((*v)[i], "stop[" + std::to_string(i) + "]"));
  } else {
    fail("stop", std::string("stop must be a string or an array of strings, not ") +
                     type_name(*v));
  }
  for (const auto& s : out) {
    if (s.empty()) fail("stop", "stop strings must not be empty");
    if (s.size() > limits.max_stop_bytes)
      fail("stop", "stop strings are limited to " + std::to_string(limits.max_stop_bytes) +
                       " bytes");
  }
}

void parse_logit_bias(const json& obj, SamplingParams& s) {
  const json* v = field(obj, "logit_bias");
  if (!v) return;
  if (!v->is_object())
    fail("logit_bias", std::string("logit_bias must be an object, not ") + type_name(*v));
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string& key = it.key();
    int64_t id = -1;
    if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos)
      fail("logit_bias", "logit_bias keys must be token ids, not '" + key + "'");
    id = std::stoll(key);
    if (!it->is_number()) fail("logit_bias", "logit_bias values must be numbers");
    const double b = it->get<double>();
    if (!(b >= -100 && b <= 100)) fail("logit_bias", "logit_bias values must be in [-100, 100]");
    // -100 bans the token, as OpenAI documents.
    s.logit_bias.emplace_back(static_cast<int32_t>(id),
                              b <= -100 ? -std::numeric_limits<float>::infinity()
                                        : static_cast<float>(b));
  }
}

// The parameters /v1/chat/completions and /v1/completions share.
void parse_generation(const json& obj, const Limits& limits, GenerationParams& g) {
  auto& s = g.sampling;
  s.temperature = number_in(obj, "temperature", 0, 2, 1.0);
  s.top_p = number_in(obj, "top_p", 0, 1, 1.0);
  if (s.top_p <= 0) fail("top_p", "top_p must be greater than 0");
  s.min_p = number_in(obj, "min_p", 0, 1, 0.0);
  s.frequency_penalty = number_in(obj, "frequency_penalty", -2, 2, 0.0);
  s.presence_penalty = number_in(obj, "presence_penalty", -2, 2, 0.0);
  if (auto k = integer_in(obj, "top_k", 0, limits.max_top_k)) s.top_k = static_cast<int>(*k);
  if (const json* seed = field(obj, "seed")) {
    if (!seed->is_number_integer())
      fail("seed", std::string("seed must be an integer, not ") + type_name(*seed));
    s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                        : static_cast<uint64_t>(seed->get<int64_t>());
  }
  parse_logit_bias(obj, s);
  // max_completion_tokens is the newer name; either may be given.
  auto mt = integer_in(obj, "max_completion_tokens", 1, std::numeric_limits<int>::max());
  if (!mt) mt = integer_in(obj, "max_tokens", 1, std::numeric_limits<int>::max());
  if (mt) g.max_tokens = static_cast<int>(*mt);
  if (auto n = integer_in(obj, "n", 1, 128); n && *n != 1)
    fail("n", "only n = 1 is supported");
  parse_stop(obj, limits, g.stop);
  g.stream = bool_of(obj, "stream");
  if (const json* so = field(obj, "stream_options")) {
    if (!so->is_object()) fail("stream_options", "stream_options must be an object");
    g.include_usage = bool_of(*so, "include_usage");
  }
  // Chat has logprobs: bool, completions logprobs: int; either way only "off" is served.
  if (const json* lp = field(obj, "logprobs");
      lp && !(lp->is_boolean() && !lp->get<bool>()) && !(lp->is_number_integer() && *lp == 0))
    fail("logprobs", "logprobs are not supported");
}

std::string model_of(const json& obj) {
  const json* v = field(obj, "model");
  return v ? string_of(*v, "model") : std::string();
}

const json& object_body(const json& body) {
  if (!body.is_object())
    throw Invalid{bad_param("", std::string("the request body must be a JSON object, not ") +
                                    type_name(body))};
  return body;
}

template <typename T, typename F>
std::variant<T, ApiError> guarded(F&& f) {
  try {
    return f();
  } catch (const Invalid& e) {
    return e.error;
  } catch (const json::exception& e) {  // a type check missed above: still a 400, not a crash
    return bad_param("", std::string("invalid request: ") + e.what());
  }
}

}  // namespace

// Defined in requests_chat.cpp.
void parse_chat_fields(const json& obj, const Limits& limits, ChatRequest& r);

std::variant<ChatRequest, ApiError> parse_chat_request(const json& body, const Limits& limits) {
  return guarded<ChatRequest>([&] {
    const json& obj = object_body(body);
    ChatRequest r;
    r.model = model_of(obj);
    parse_generation(obj, limits, r.gen);
    parse_chat_fields(obj, limits, r);
    return r;
  });
}

std::variant<CompletionRequest, ApiError> parse_completion_request(const json& body,
                                                                   const Limits& limits) {
  return guarded<CompletionRequest>([&] {
    const json& obj = object_body(body);
    CompletionRequest r;
    r.model = model_of(obj);
    r.gen.max_tokens = 16;  // OpenAI's default for this endpoint
    parse_generation(obj, limits, r.gen);
    const json* p = field(obj, "prompt");
    if (!p) fail("prompt", "prompt is required");
    if (p->is_array()) {
      if (p->size() != 1 || !(*p)[0].is_string())
        fail("prompt", "prompt must be a string or an array of one string");
      r.prompt = (*p)[0].get<std::string>();
    } else {
      r.prompt = string_of(*p, "prompt");
    }
    if (r.prompt.empty()) fail("prompt", "prompt must not be empty");
    return r;
  });
}

// Shared with requests_chat.cpp through these thin wrappers.
namespace detail {
[[noreturn]] void fail_param(std::string param, std::string message) {
  fail(std::move(param), std::move(message));
}
const char* json_type_name(const json& v) { return type_name(v); }
}  // namespace detail

}  // namespace nibble::serve
