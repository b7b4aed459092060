// The OpenAI wire format of `nibble serve`, without HTTP and without a model: request bodies
// (JSON text) -> validated request structs or an ApiError that names the parameter; response
// objects and stream chunks -> JSON. Everything here takes untrusted input: nothing throws out
// of it, and no input makes it allocate beyond what the body's size already bounds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nibble::serve {

using json = nlohmann::json;

// {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code;   // "" -> null
  std::string param;  // "" -> null
};
json error_body(const ApiError& e);
ApiError bad_param(std::string param, std::string message);

// JSON text of a value. Strings that are not valid UTF-8 (only our own messages can hold
// them: request strings were validated by the parser) get U+FFFD instead of throwing.
std::string dump(const json& j);

struct Limits {
  int max_json_depth = 64;       // nesting of the request document
  size_t max_messages = 1024;    // chat messages per request
  size_t max_stop = 4;           // stop strings (OpenAI's limit)
  size_t max_stop_bytes = 256;   // bytes per stop string
  size_t max_tools = 64;         // tools per request
  int max_top_k = 1 << 20;
};

struct SamplingParams {
  double temperature = 1.0;  // OpenAI's default; 0 = greedy
  double top_p = 1.0;
  int top_k = 0;             // extension (llama.cpp's name); 0 = off
  double min_p = 0.0;        // extension; 0 = off
  double frequency_penalty = 0.0;
  double presence_penalty = 0.0;
  std::optional<uint64_t> seed;                    // absent: a random seed per request
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> bias in [-100, 100]
};

struct GenerationParams {
  std::optional<int> max_tokens;  // absent: until the context is full
  std::vector<std::string> stop;
  SamplingParams sampling;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

enum class FormatKind { text, json_object, json_schema };
struct ResponseFormat {
  FormatKind kind = FormatKind::text;
  std::string name;  // json_schema.name
  json schema;       // json_schema.schema
};

struct Tool {
  std::string name;
  std::string description;
  json parameters;  // a JSON Schema ({} when absent)
};
enum class ToolChoice { none, automatic, required, named };

struct Message {
  std::string role;  // system, developer, user, assistant, tool
  std::string content;
  json tool_calls;   // assistant turns: the calls it made (null when none)
  std::string tool_call_id;  // tool turns
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  GenerationParams gen;
  ResponseFormat format;
  std::vector<Tool> tools;
  ToolChoice tool_choice = ToolChoice::automatic;
  std::string tool_choice_name;  // ToolChoice::named
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  GenerationParams gen;
};

// Parses JSON text; parts nested deeper than limits.max_json_depth make it a 400.
std::variant<json, ApiError> parse_json(std::string_view body, const Limits& limits);
std::variant<ChatRequest, ApiError> parse_chat_request(const json& body, const Limits& limits);
std::variant<CompletionRequest, ApiError> parse_completion_request(const json& body,
                                                                   const Limits& limits);

// --- Responses ------------------------------------------------------------------------------

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;  // prompt tokens found in the slot's KV cache
};
json usage_json(const Usage& u);

struct Envelope {  // what every response object of one request shares
  std::string id;  // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;
  std::string model;
};

// A chat answer: `content` (text) or `tool_calls` (an array in OpenAI's shape).
json chat_completion(const Envelope& env, const std::string& content, const json& tool_calls,
                     const std::string& finish_reason, const Usage& usage);
// One streamed chat chunk; finish_reason "" -> null.
json chat_chunk(const Envelope& env, const json& delta, const std::string& finish_reason);
json text_completion(const Envelope& env, const std::string& text,
                     const std::string& finish_reason, const Usage& usage);
json text_completion_chunk(const Envelope& env, const std::string& text,
                           const std::string& finish_reason);
// The chunk that carries usage (stream_options.include_usage): empty choices.
json usage_chunk(const Envelope& env, const char* object, const Usage& usage);
// "data: <json>\n\n"
std::string sse_event(const json& j);

}  // namespace nibble::serve
