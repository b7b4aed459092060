// The chat-only fields of a /v1/chat/completions body: messages, response_format, tools and
// tool_choice.
#include "protocol.h"

namespace nibble::serve {
namespace detail {
[[noreturn]] void fail_param(std::string param, std::string message);
const char* json_type_name(const json& v);
}  // namespace detail

namespace {

using detail::fail_param;
using detail::json_type_name;

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// Content: a string, or an array of parts of which only {"type": "text", "text": ...} exist
// for a text model; null only where OpenAI allows it (assistant turns with tool calls).
std::string content_of(const json& m, const std::string& param, bool may_be_null) {
  const json* c = field(m, "content");
  if (!c) {
    if (may_be_null) return {};
    fail_param(param, param + " is required");
  }
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array())
    fail_param(param, param + " must be a string or an array of parts, not " +
                          json_type_name(*c));
  std::string out;
  for (size_t i = 0; i < c->size(); ++i) {
    const json& part = (*c)[i];
    const std::string p = param + "[" + std::to_string(i) + "]";
    if (!part.is_object()) fail_param(p, p + " must be an object");
    const json* type = field(part, "type");
    if (!type || !type->is_string() || type->get<std::string>() != "text")
      fail_param(p + ".type", "only text content parts are supported");
    const json* text = field(part, "text");
    if (!text || !text->is_string()) fail_param(p + ".text", p + ".text must be a string");
    out += text->get<std::string>();
  }
  return out;
}

void check_tool_calls(const json& calls, const std::string& param) {
  if (!calls.is_array()) fail_param(param, param + " must be an array");
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string p = param + "[" + std::to_string(i) + "]";
    const json& c = calls[i];
    const json* fn = c.is_object() ? field(c, "function") : nullptr;
    if (!fn || !fn->is_object()) fail_param(p + ".function", p + ".function must be an object");
    const json* name = field(*fn, "name");
    if (!name || !name->is_string()) fail_param(p + ".function.name", "a tool call needs a name");
  }
}

void parse_messages(const json& obj, const Limits& limits, std::vector<Message>& out) {
  const json* ms = field(obj, "messages");
  if (!ms) fail_param("messages", "messages is required");
  if (!ms->is_array()) fail_param("messages", "messages must be an array");
  if (ms->empty()) fail_param("messages", "messages must contain at least one message");
  if (ms->size() > limits.max_messages)
    fail_param("messages", "at most " + std::to_string(limits.max_messages) + " messages");
  for (size_t i = 0; i < ms->size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    const json& m = (*ms)[i];
    if (!m.is_object()) fail_param(p, p + " must be an object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) fail_param(p + ".role", p + ".role must be a string");
    Message msg;
    msg.role = role->get<std::string>();
    if (msg.role != "system" && msg.role != "developer" && msg.role != "user" &&
        msg.role != "assistant" && msg.role != "tool")
      fail_param(p + ".role", "unknown role '" + msg.role +
                                  "' (system, developer, user, assistant or tool)");
    if (msg.role == "developer") msg.role = "system";
    const json* calls = msg.role == "assistant" ? field(m, "tool_calls") : nullptr;
    if (calls) {
      check_tool_calls(*calls, p + ".tool_calls");
      msg.tool_calls = *calls;
    }
    msg.content = content_of(m, p + ".content", calls != nullptr);
    if (msg.role == "tool") {
      const json* id = field(m, "tool_call_id");
      if (id && id->is_string()) msg.tool_call_id = id->get<std::string>();
    }
    out.push_back(std::move(msg));
  }
}

void parse_response_format(const json& obj, ResponseFormat& f) {
  const json* rf = field(obj, "response_format");
  if (!rf) return;
  if (!rf->is_object()) fail_param("response_format", "response_format must be an object");
  const json* type = field(*rf, "type");
  if (!type || !type->is_string())
    fail_param("response_format.type", "response_format.type must be a string");
  const std::string t = type->get<std::string>();
  if (t == "text") return;
  if (t == "json_object") {
    f.kind = FormatKind::json_object;
    return;
  }
  if (t != "json_schema")
    fail_param("response_format.type",
               "response_format.type must be text, json_object or json_schema, not '" + t + "'");
  const json* js = field(*rf, "json_schema");
  if (!js || !js->is_object())
    fail_param("response_format.json_schema", "response_format.json_schema must be an object");
  const json* name = field(*js, "name");
  if (name && name->is_string()) f.name = name->get<std::string>();
  const json* schema = field(*js, "schema");
  if (schema && !schema->is_object() && !schema->is_boolean())
    fail_param("response_format.json_schema.schema", "the schema must be an object");
  f.kind = FormatKind::json_schema;
  f.schema = schema ? *schema : json::object();
}

void parse_tools(const json& obj, const Limits& limits, std::vector<Tool>& out) {
  const json* ts = field(obj, "tools");
  if (!ts) return;
  if (!ts->is_array()) fail_param("tools", "tools must be an array");
  if (ts->size() > limits.max_tools)
    fail_param("tools", "at most " + std::to_string(limits.max_tools) + " tools");
  for (size_t i = 0; i < ts->size(); ++i) {
    const std::string p = "tools[" + std::to_string(i) + "]";
    const json& t = (*ts)[i];
    const json* type = t.is_object() ? field(t, "type") : nullptr;
    if (!type || !type->is_string() || type->get<std::string>() != "function")
      fail_param(p + ".type", "only tools of type function are supported");
    const json* fn = field(t, "function");
    if (!fn || !fn->is_object()) fail_param(p + ".function", p + ".function must be an object");
    const json* name = field(*fn, "name");
    if (!name || !name->is_string() || name->get<std::string>().empty())
      fail_param(p + ".function.name", p + ".function.name must be a non-empty string");
    Tool tool;
    tool.name = name->get<std::string>();
    for (const auto& other : out)
      if (other.name == tool.name) fail_param(p + ".function.name", "duplicate tool " + tool.name);
    if (const json* d = field(*fn, "description"); d && d->is_string())
      tool.description = d->get<std::string>();
    const json* params = field(*fn, "parameters");
    if (params && !params->is_object())
      fail_param(p + ".function.parameters", "parameters must be a JSON Schema object");
    tool.parameters = params ? *params : json::object();
    out.push_back(std::move(tool));
  }
}

void parse_tool_choice(const json& obj, ChatRequest& r) {
  const json* tc = field(obj, "tool_choice");
  if (!tc) {
    r.tool_choice = r.tools.empty() ? ToolChoice::none : ToolChoice::automatic;
    return;
  }
  if (tc->is_string()) {
    const std::string s = tc->get<std::string>();
    if (s == "none") r.tool_choice = ToolChoice::none;
    else if (s == "auto") r.tool_choice = ToolChoice::automatic;
    else if (s == "required") r.tool_choice = ToolChoice::required;
    else fail_param("tool_choice", "tool_choice must be none, auto, required or an object");
  } else if (tc->is_object()) {
    const json* fn = field(*tc, "function");
    const json* name = fn && fn->is_object() ? field(*fn, "name") : nullptr;
    if (!name || !name->is_string())
      fail_param("tool_choice.function.name", "tool_choice.function.name must be a string");
    r.tool_choice = ToolChoice::named;
    r.tool_choice_name = name->get<std::string>();
    bool known = false;
    for (const auto& t : r.tools) known = known || t.name == r.tool_choice_name;
    if (!known) fail_param("tool_choice", "tool_choice names an unknown tool");
  } else {
    fail_param("tool_choice", "tool_choice must be a string or an object");
  }
  if (r.tool_choice != ToolChoice::none && r.tools.empty())
    fail_param("tool_choice", "tool_choice needs tools");
}

}  // namespace

void parse_chat_fields(const json& obj, const Limits& limits, ChatRequest& r) {
  parse_messages(obj, limits, r.messages);
  parse_response_format(obj, r.format);
  parse_tools(obj, limits, r.tools);
  parse_tool_choice(obj, r);
  if (r.tool_choice != ToolChoice::none && r.format.kind != FormatKind::text)
    fail_param("response_format", "response_format cannot be combined with tools");
}

}  // namespace nibble::serve
