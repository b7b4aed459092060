#include "tool_calls.h"

#include <cstdio>

namespace nibble::serve {
namespace {

json call_schema(const Tool& t) {
  return json{{"type", "object"},
              {"properties", {{"name", {{"const", t.name}}}, {"arguments", t.parameters}}},
              {"required", {"name", "arguments"}},
              {"additionalProperties", false}};
}

json answer_schema(const ChatRequest& r) {
  json calls = json::array();
  for (const auto& t : r.tools)
    if (r.tool_choice != ToolChoice::named || t.name == r.tool_choice_name)
      calls.push_back(call_schema(t));
  json items = calls.size() == 1 ? calls[0] : json{{"anyOf", calls}};
  json with_calls = {{"type", "object"},
                     {"properties",
                      {{"tool_calls", {{"type", "array"}, {"items", items}, {"minItems", 1}}}}},
                     {"required", {"tool_calls"}},
                     {"additionalProperties", false}};
  if (r.tool_choice != ToolChoice::automatic) return with_calls;
  json with_text = {{"type", "object"},
                    {"properties", {{"content", {{"type", "string"}}}}},
                    {"required", {"content"}},
                    {"additionalProperties", false}};
  return json{{"anyOf", {with_calls, with_text}}};
}

std::string describe_tools(const ChatRequest& r) {
  std::string s = "You can call these tools (JSON Schema of each tool's arguments):\n";
  for (const auto& t : r.tools) {
    s += "- " + t.name;
    if (!t.description.empty()) s += ": " + t.description;
    s += "\n  arguments: " + dump(t.parameters) + "\n";
  }
  s += "Answer with JSON only: {\"tool_calls\": [{\"name\": \"<tool>\", \"arguments\": {...}}]}";
  if (r.tool_choice == ToolChoice::automatic)
    s += " to call tools, or {\"content\": \"<your answer>\"} to answer directly";
  if (r.tool_choice == ToolChoice::named) s += "; call " + r.tool_choice_name;
  s += ".";
  return s;
}

// Earlier tool calls and results as plain text turns every template can render.
void flatten_tool_turns(std::vector<Message>& messages) {
  for (auto& m : messages) {
    if (m.role == "assistant" && m.tool_calls.is_array() && !m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& c : m.tool_calls) {
        const json& fn = c["function"];
        json args = fn.contains("arguments") ? fn["arguments"] : json::object();
        if (args.is_string()) {  // OpenAI sends arguments as JSON text
          json parsed = json::parse(args.get<std::string>(), nullptr, false);
          if (!parsed.is_discarded()) args = std::move(parsed);
        }
        calls.push_back({{"name", fn["name"]}, {"arguments", std::move(args)}});
      }
      m.content = dump(json{{"tool_calls", std::move(calls)}});
      m.tool_calls = nullptr;
    } else if (m.role == "tool") {
      m.role = "user";
      m.content = "Tool result" + (m.tool_call_id.empty() ? "" : " (" + m.tool_call_id + ")") +
                  ": " + m.content;
    }
  }
}

}  // namespace

Constraint prepare_tools(ChatRequest& r) {
  flatten_tool_turns(r.messages);
  Constraint c;
  if (r.tool_choice == ToolChoice::none || r.tools.empty()) {
    if (r.format.kind == FormatKind::json_object) c.kind = Constraint::Kind::json_object;
    if (r.format.kind == FormatKind::json_schema) {
      c.kind = Constraint::Kind::json_schema;
      c.schema = r.format.schema;
    }
    return c;
  }
  const std::string text = describe_tools(r);
  if (!r.messages.empty() && r.messages.front().role == "system")
    r.messages.front().content += "\n\n" + text;
  else
    r.messages.insert(r.messages.begin(), Message{"system", text, nullptr, ""});
  c.kind = Constraint::Kind::json_schema;
  c.schema = answer_schema(r);
  return c;
}

ToolAnswer read_tool_answer(const std::string& text, const std::string& finish_reason,
                            uint64_t id_seed) {
  ToolAnswer a;
  a.finish_reason = finish_reason;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    a.content = text;
    if (a.finish_reason == "stop") a.finish_reason = "length";
    return a;
  }
  if (auto it = doc.find("content"); it != doc.end() && it->is_string()) {
    a.content = it->get<std::string>();
    return a;
  }
  auto calls = doc.find("tool_calls");
  if (calls == doc.end() || !calls->is_array()) {
    a.content = text;
    return a;
  }
  a.tool_calls = json::array();
  for (const auto& c : *calls) {
    char id[32];
    std::snprintf(id, sizeof id, "call_%016llx",
                  static_cast<unsigned long long>(id_seed + a.tool_calls.size()));
    // The grammar makes every call an object with a string name; checked anyway, as this
    // must not throw whatever the text is.
    const json args = c.contains("arguments") ? c["arguments"] : json::object();
    const auto name = c.is_object() ? c.find("name") : c.end();
    a.tool_calls.push_back(
        {{"id", id},
         {"type", "function"},
         {"function",
          {{"name", name != c.end() && name->is_string() ? name->get<std::string>() : ""},
           {"arguments", dump(args)}}}});
  }
  a.finish_reason = "tool_calls";
  return a;
}

}  // namespace nibble::serve
