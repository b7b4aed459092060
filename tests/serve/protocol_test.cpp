// The wire format of `nibble serve` without HTTP or a model: JSON bounds, request validation
// (each bad field names its parameter), response objects, and the tool-call JSON round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "protocol.h"
#include "tool_calls.h"

namespace nibble::serve {
namespace {

const Limits kLimits;

json parse_ok(const std::string& text) {
  auto r = parse_json(text, kLimits);
  EXPECT_TRUE(std::holds_alternative<json>(r)) << text;
  return std::holds_alternative<json>(r) ? std::get<json>(r) : json();
}

ApiError chat_error(const std::string& body) {
  auto r = parse_chat_request(parse_ok(body), kLimits);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

ChatRequest chat_ok(const std::string& body) {
  auto r = parse_chat_request(parse_ok(body), kLimits);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << ": " << e->message;
  return std::holds_alternative<ChatRequest>(r) ? std::get<ChatRequest>(r) : ChatRequest{};
}

const std::string kHi = R"("messages":[{"role":"user","content":"hi"}])";

TEST(ServeJson, MalformedAndTooDeep) {
  auto bad = parse_json("{\"a\": [1, 2", kLimits);
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).code, "invalid_json");
  EXPECT_NE(std::get<ApiError>(bad).message.find("line 1"), std::string::npos);

  std::string deep(1 << 20, '[');  // a megabyte of nesting: refused, without recursion
  auto d = parse_json(deep + std::string(1 << 20, ']'), kLimits);
  ASSERT_TRUE(std::holds_alternative<ApiError>(d));
  EXPECT_NE(std::get<ApiError>(d).message.find("nests deeper than 64"), std::string::npos);

  std::string ok_depth = std::string(60, '[') + std::string(60, ']');
  EXPECT_TRUE(std::holds_alternative<json>(parse_json(ok_depth, kLimits)));
  EXPECT_TRUE(std::holds_alternative<ApiError>(parse_json("\"\xff\"", kLimits)));  // bad UTF-8
}

TEST(ServeRequest, DefaultsAndConversions) {
  ChatRequest r = chat_ok(R"({"model":"x","messages":[
      {"role":"developer","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.gen.sampling.temperature, 1.0);
  EXPECT_EQ(r.gen.sampling.top_p, 1.0);
  EXPECT_FALSE(r.gen.max_tokens.has_value());
  EXPECT_FALSE(r.gen.stream);
  EXPECT_EQ(r.tool_choice, ToolChoice::none);
  EXPECT_EQ(r.format.kind, FormatKind::text);

  chat_ok("{" + kHi + R"(,"logprobs":false})");  // off is fine (completions send 0)
  chat_ok("{" + kHi + R"(,"logprobs":0,"user":"u","metadata":{}})");  // unknown fields ignored
  r = chat_ok("{" + kHi + R"(,"stop":"END","seed":-1,"max_completion_tokens":5,"n":1,
      "logit_bias":{"2":-100,"7":3.5},"stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(r.gen.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(*r.gen.sampling.seed, ~uint64_t{0});
  EXPECT_EQ(*r.gen.max_tokens, 5);
  ASSERT_EQ(r.gen.sampling.logit_bias.size(), 2u);
  EXPECT_TRUE(std::isinf(r.gen.sampling.logit_bias[0].second));  // -100 bans
  EXPECT_FLOAT_EQ(r.gen.sampling.logit_bias[1].second, 3.5f);
  EXPECT_TRUE(r.gen.stream && r.gen.include_usage);
}

TEST(ServeRequest, EachBadFieldNamesItsParameter) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"messages":"hi"})", "messages"},
      {R"({"messages":[]})", "messages"},
      {R"({})", "messages"},
      {R"({"messages":[{"content":"x"}]})", "messages[0].role"},
      {R"({"messages":[{"role":"user","content":"a"},{"role":"bot","content":"x"}]})",
       "messages[1].role"},
      {R"({"messages":[{"role":"user"}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})",
       "messages[0].content[0].type"},
      {"{" + kHi + R"(,"temperature":"hot"})", "temperature"},
      {"{" + kHi + R"(,"temperature":2.5})", "temperature"},
      {"{" + kHi + R"(,"top_p":0})", "top_p"},
      {"{" + kHi + R"(,"max_tokens":0})", "max_tokens"},
      {"{" + kHi + R"(,"max_tokens":1.5})", "max_tokens"},
      {"{" + kHi + R"(,"max_tokens":99999999999})", "max_tokens"},
      {"{" + kHi + R"(,"n":3})", "n"},
      {"{" + kHi + R"(,"stop":["a","b","c","d","e"]})", "stop"},
      {"{" + kHi + R"(,"stop":[""]})", "stop"},
      {"{" + kHi + R"(,"stop":[1]})", "stop[0]"},
      {"{" + kHi + R"(,"seed":"x"})", "seed"},
      {"{" + kHi + R"(,"logit_bias":{"x":1}})", "logit_bias"},
      {"{" + kHi + R"(,"logit_bias":{"5":101}})", "logit_bias"},
      {"{" + kHi + R"(,"stream":"yes"})", "stream"},
      {"{" + kHi + R"(,"response_format":{"type":"xml"}})", "response_format.type"},
      {"{" + kHi + R"(,"response_format":{"type":"json_schema"}})", "response_format.json_schema"},
      {"{" + kHi + R"(,"tools":[{"type":"function","function":{}}]})", "tools[0].function.name"},
      {"{" + kHi + R"(,"tools":[{"type":"code"}]})", "tools[0].type"},
      {"{" + kHi + R"(,"tool_choice":"required"})", "tool_choice"},
      {"{" + kHi + R"(,"tools":[{"type":"function","function":{"name":"f"}}],
          "tool_choice":{"type":"function","function":{"name":"g"}}})", "tool_choice"},
      {"{" + kHi + R"(,"model":5})", "model"},
      {"{" + kHi + R"(,"logprobs":true})", "logprobs"},
      {"{" + kHi + R"(,"logprobs":3})", "logprobs"},
  };
  for (const auto& [body, param] : cases) {
    ApiError e = chat_error(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body << " -> " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(chat_error("[1,2]").status, 400);  // not an object
}

TEST(ServeRequest, Completions) {
  auto ok = parse_completion_request(parse_ok(R"({"prompt":["Once"]})"), kLimits);
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(ok));
  EXPECT_EQ(std::get<CompletionRequest>(ok).prompt, "Once");
  EXPECT_EQ(*std::get<CompletionRequest>(ok).gen.max_tokens, 16);  // OpenAI's default here
  for (const char* bad : {R"({})", R"({"prompt":["a","b"]})", R"({"prompt":""})",
                          R"({"prompt":[1,2,3]})"}) {
    auto r = parse_completion_request(parse_ok(bad), kLimits);
    ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << bad;
    EXPECT_EQ(std::get<ApiError>(r).param, "prompt") << bad;
  }
}

TEST(ServeResponse, ObjectsAndEvents) {
  Envelope env{"chatcmpl-1", 1700000000, "m"};
  Usage u{10, 5, 3};
  json c = chat_completion(env, "hello", nullptr, "stop", u);
  EXPECT_EQ(c["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(c["usage"]["total_tokens"], 15);
  EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
  json calls = json::array({{{"id", "call_1"}, {"type", "function"}}});
  json t = chat_completion(env, "", calls, "tool_calls", u);
  EXPECT_TRUE(t["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(t["choices"][0]["message"]["tool_calls"], calls);
  json chunk = chat_chunk(env, {{"content", "x"}}, "");
  EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(usage_chunk(env, "text_completion", u)["choices"].size(), 0u);
  // Our own messages may quote invalid UTF-8 from a request: replaced, never thrown.
  EXPECT_EQ(dump(json("bad \xff byte")), "\"bad \xEF\xBF\xBD byte\"");
  json err = error_body(bad_param("top_p", "nope"));
  EXPECT_EQ(err["error"]["param"], "top_p");
  EXPECT_EQ(err["error"]["type"], "invalid_request_error");
}

TEST(ServeTools, PromptSchemaAndAnswer) {
  ChatRequest r = chat_ok(R"({"messages":[{"role":"user","content":"weather?"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"w","arguments":"{\"city\":\"Oslo\"}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"rain"}],
      "tools":[{"type":"function","function":{"name":"w","description":"weather",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
      "tool_choice":"required"})");
  Constraint c = prepare_tools(r);
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_NE(r.messages[0].content.find("- w: weather"), std::string::npos);
  EXPECT_EQ(r.messages[2].content, R"({"tool_calls":[{"arguments":{"city":"Oslo"},"name":"w"}]})");
  EXPECT_EQ(r.messages[3].role, "user");
  EXPECT_EQ(r.messages[3].content, "Tool result (c1): rain");
  EXPECT_EQ(c.kind, Constraint::Kind::json_schema);
  EXPECT_EQ(c.schema["required"], json::array({"tool_calls"}));  // required: no text branch
  EXPECT_EQ(c.schema["properties"]["tool_calls"]["items"]["properties"]["name"]["const"], "w");

  ToolAnswer a = read_tool_answer(R"({"tool_calls":[{"name":"w","arguments":{"city":"X"}}]})",
                                  "stop", 1);
  EXPECT_EQ(a.finish_reason, "tool_calls");
  ASSERT_EQ(a.tool_calls.size(), 1u);
  EXPECT_EQ(a.tool_calls[0]["function"]["arguments"], R"({"city":"X"})");
  EXPECT_EQ(read_tool_answer(R"({"content":"hi"})", "stop", 1).content, "hi");
  ToolAnswer cut = read_tool_answer(R"({"tool_calls":[{"na)", "length", 1);
  EXPECT_EQ(cut.finish_reason, "length");
  EXPECT_TRUE(cut.tool_calls.is_null());
  ToolAnswer odd = read_tool_answer(R"({"tool_calls":[7]})", "stop", 1);  // must not throw
  EXPECT_EQ(odd.tool_calls[0]["function"]["name"], "");
}

}  // namespace
}  // namespace nibble::serve
