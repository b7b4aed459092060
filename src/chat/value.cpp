// Value semantics: truthiness, equality, printing and JSON.
#include "chat/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace nibble::chat {

const Value* Value::find(std::string_view key) const {
  if (kind != Kind::dict || !dict) return nullptr;
  for (const auto& [k, v] : *dict) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Value::set(std::string_view key, Value v) {
  if (kind != Kind::dict || !dict) return;
  for (auto& [k, old] : *dict) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  dict->emplace_back(std::string(key), std::move(v));
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return false;
    case Value::Kind::boolean:
      return v.b;
    case Value::Kind::integer:
      return v.i != 0;
    case Value::Kind::floating:
      return v.f != 0;
    case Value::Kind::string:
      return !v.s.empty();
    case Value::Kind::list:
      return !v.list->empty();
    case Value::Kind::dict:
      return !v.dict->empty();
    case Value::Kind::macro:
      return true;
  }
  return false;
}

void fail(std::string message) { throw TemplateFailure{std::move(message)}; }

bool equals(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) fail("values nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.kind == Value::Kind::integer && b.kind == Value::Kind::integer) return a.i == b.i;
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return true;
    case Value::Kind::boolean:
      return a.b == b.b;
    case Value::Kind::string:
      return a.s == b.s;
    case Value::Kind::list:
      if (a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i) {
        if (!equals((*a.list)[i], (*b.list)[i], depth + 1)) return false;
      }
      return true;
    case Value::Kind::dict:
      if (a.dict->size() != b.dict->size()) return false;
      for (const auto& [k, v] : *a.dict) {
        const Value* o = b.find(k);
        if (!o || !equals(v, *o, depth + 1)) return false;
      }
      return true;
    case Value::Kind::macro:
      return a.macro == b.macro;
    default:
      return false;
  }
}

std::string format_float(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  std::string s(buf, r.ptr);
  // Python and the reference keep ".0" on integral floats.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::undefined:
      return "undefined";
    case Value::Kind::none:
      return "none";
    case Value::Kind::boolean:
      return "boolean";
    case Value::Kind::integer:
      return "integer";
    case Value::Kind::floating:
      return "float";
    case Value::Kind::string:
      return "string";
    case Value::Kind::list:
      return "list";
    case Value::Kind::dict:
      return "dict";
    case Value::Kind::macro:
      return "macro";
  }
  return "?";
}

static void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

static void json_into(std::string& out, const Value& v, int indent, int depth) {
  if (depth > kMaxValueDepth) fail("value nested too deeply for JSON (does it contain itself?)");
  auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(d), ' ');
  };
  switch (v.kind) {
    case Value::Kind::undefined:
    case Value::Kind::none:
    case Value::Kind::macro:
      out += "null";
      return;
    case Value::Kind::boolean:
      out += v.b ? "true" : "false";
      return;
    case Value::Kind::integer:
      out += std::to_string(v.i);
      return;
    case Value::Kind::floating:
      out += format_float(v.f);
      return;
    case Value::Kind::string:
      json_string(out, v.s);
      return;
    case Value::Kind::list: {
      out += '[';
      bool first = true;
      for (const auto& e : *v.list) {
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        newline(depth + 1);
        json_into(out, e, indent, depth + 1);
      }
      if (!v.list->empty()) newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::dict: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : *v.dict) {
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        newline(depth + 1);
        json_string(out, k);
        out += ": ";
        json_into(out, e, indent, depth + 1);
      }
      if (!v.dict->empty()) newline(depth);
      out += '}';
      return;
    }
  }
}

std::string to_json(const Value& v, int indent, int depth) {
  std::string out;
  json_into(out, v, indent, depth);
  return out;
}

std::string to_output(const Value& v) {
  switch (v.kind) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return {};
    case Value::Kind::boolean:
      return v.b ? "true" : "false";
    case Value::Kind::integer:
      return std::to_string(v.i);
    case Value::Kind::floating:
      return format_float(v.f);
    case Value::Kind::string:
      return v.s;
    case Value::Kind::list:
    case Value::Kind::dict:
      return to_json(v, -1);
    case Value::Kind::macro:
      return "<macro>";
  }
  return {};
}

}  // namespace nibble::chat
