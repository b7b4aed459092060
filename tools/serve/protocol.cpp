// JSON parsing with a depth bound, error bodies and the response objects of `nibble serve`.
#include "protocol.h"

namespace nibble::serve {

json error_body(const ApiError& e) {
  json err = {{"message", e.message}, {"type", e.type}};
  err["param"] = e.param.empty() ? json(nullptr) : json(e.param);
  err["code"] = e.code.empty() ? json(nullptr) : json(e.code);
  return json{{"error", std::move(err)}};
}

ApiError bad_param(std::string param, std::string message) {
  ApiError e;
  e.status = 400;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = "invalid_value";
  return e;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<json, ApiError> parse_json(std::string_view body, const Limits& limits) {
  bool too_deep = false;
  // The callback sees every value with its depth; values below the bound are discarded as they
  // are parsed, so the document kept in memory is never deeper than the bound.
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    if (depth > limits.max_json_depth) too_deep = true;
    return depth <= limits.max_json_depth;
  };
  json doc = json::parse(body.begin(), body.end(), cb, /*allow_exceptions=*/false);
  if (too_deep) {
    ApiError e;
    e.message = "the request body nests deeper than " + std::to_string(limits.max_json_depth) +
                " levels";
    e.code = "invalid_json";
    return e;
  }
  if (doc.is_discarded()) {
    // Run the parser again for its message (line and column of the first error).
    std::string what = "malformed JSON";
    try {
      json again = json::parse(body.begin(), body.end(), cb);
      (void)again;
    } catch (const json::exception& ex) {
      what = ex.what();
    }
    ApiError e;
    e.message = "the request body is not valid JSON: " + what;
    e.code = "invalid_json";
    return e;
  }
  return doc;
}

json usage_json(const Usage& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

static json head(const Envelope& env, const char* object) {
  return json{{"id", env.id}, {"object", object}, {"created", env.created}, {"model", env.model}};
}

static json reason(const std::string& finish_reason) {
  return finish_reason.empty() ? json(nullptr) : json(finish_reason);
}

json chat_completion(const Envelope& env, const std::string& content, const json& tool_calls,
                     const std::string& finish_reason, const Usage& usage) {
  json msg = {{"role", "assistant"}};
  if (tool_calls.is_array() && !tool_calls.empty()) {
    msg["content"] = nullptr;
    msg["tool_calls"] = tool_calls;
  } else {
    msg["content"] = content;
  }
  json j = head(env, "chat.completion");
  j["choices"] = json::array(
      {{{"index", 0}, {"message", std::move(msg)}, {"logprobs", nullptr},
        {"finish_reason", reason(finish_reason)}}});
  j["usage"] = usage_json(usage);
  return j;
}

json chat_chunk(const Envelope& env, const json& delta, const std::string& finish_reason) {
  json j = head(env, "chat.completion.chunk");
  j["choices"] = json::array({{{"index", 0}, {"delta", delta}, {"logprobs", nullptr},
                               {"finish_reason", reason(finish_reason)}}});
  return j;
}

json text_completion(const Envelope& env, const std::string& text,
                     const std::string& finish_reason, const Usage& usage) {
  json j = text_completion_chunk(env, text, finish_reason);
  j["usage"] = usage_json(usage);
  return j;
}

json text_completion_chunk(const Envelope& env, const std::string& text,
                           const std::string& finish_reason) {
  json j = head(env, "text_completion");
  j["choices"] = json::array({{{"index", 0}, {"text", text}, {"logprobs", nullptr},
                               {"finish_reason", reason(finish_reason)}}});
  return j;
}

json usage_chunk(const Envelope& env, const char* object, const Usage& usage) {
  json j = head(env, object);
  j["choices"] = json::array();
  j["usage"] = usage_json(usage);
  return j;
}

std::string sse_event(const json& j) { return "data: " + dump(j) + "\n\n"; }

}  // namespace nibble::serve
