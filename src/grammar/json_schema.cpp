// JSON Schema -> GBNF. Each schema node becomes an expression (often a rule); objects list
// their properties in the schema's order, required ones always, optional ones optionally, with
// the commas placed by a chain of rules (F_i: nothing written yet, A_i: something written).
#include "grammar/json_schema.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "grammar/gbnf_parser.h"

namespace nibble::grammar {
namespace {

using Json = nlohmann::ordered_json;

struct SchemaFail {
  std::string path;
  std::string what;
};

const char* const kPrimitives = R"(ws ::= ( " " | "\n" [ ]{0,8} )?
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" u4 )
u4 ::= [0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}
int-part ::= "0" | [1-9] [0-9]{0,15}
integer ::= "-"? int-part
number ::= "-"? int-part ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?
boolean ::= "true" | "false"
null ::= "null"
value ::= object | array | string | number | boolean | null
object ::= "{" ws ( member ( "," ws member )* )? "}"
member ::= string ws ":" ws value ws
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
)";

std::string literal(const std::string& text) {
  std::string s = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      s += '\\';
      s += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      s += buf;
    } else {
      s += c;
    }
  }
  return s + "\"";
}

std::string repeat_suffix(uint64_t lo, int64_t hi) {
  if (hi < 0) return "{" + std::to_string(lo) + ",}";
  return "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
}

class Converter {
 public:
  explicit Converter(const Json& root) : root_(root) {}

  std::string run() {
    const std::string e = visit(root_, "", "root");
    std::string out = "root ::= " + e + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out + kPrimitives;
  }

 private:
  const Json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> names_;
  std::map<std::string, std::string> refs_;  // $ref -> rule name
  int depth_ = 0;
  static constexpr int kMaxSchemaDepth = 64;

  [[noreturn]] static void fail(const std::string& path, std::string what) {
    throw SchemaFail{path.empty() ? "/" : path, std::move(what)};
  }

  std::string add_rule(const std::string& hint, std::string body) {
    std::string base;
    for (char c : hint) base += (isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
    if (base.empty()) base = "r";
    base = "s-" + base;
    std::string name = base;
    for (int i = 2; names_.count(name); ++i) name = base + "-" + std::to_string(i);
    names_.insert(name);
    rules_.push_back({name, std::move(body)});
    return name;
  }

  static uint64_t count(const Json& s, const char* key, const std::string& path, uint64_t dflt) {
    if (!s.contains(key)) return dflt;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail(path, std::string(key) + " must be a non-negative integer");
    const auto n = v.get<uint64_t>();
    if (n > kMaxRepeat)
      fail(path, std::string(key) + " above the supported limit of " + std::to_string(kMaxRepeat));
    return n;
  }

  static inline const std::set<std::string> kAnnotations = {
      "title", "description", "$schema", "$id", "$comment", "default", "examples",
      "deprecated", "readOnly", "writeOnly"};

  void check_keywords(const Json& s, const std::string& path) {
    static const std::set<std::string> kKnown = {
        "type", "properties", "required", "additionalProperties", "enum", "const", "items",
        "minItems", "maxItems", "anyOf", "oneOf", "$ref", "$defs", "definitions", "pattern",
        "minLength", "maxLength", "title", "description", "$schema", "$id", "$comment",
        "default", "examples", "deprecated", "readOnly", "writeOnly"};
    for (auto it = s.begin(); it != s.end(); ++it)
      if (!kKnown.count(it.key()))
        fail(path, "unsupported keyword '" + it.key() + "' (docs/grammar.md lists the subset)");
  }

  std::string visit(const Json& s, const std::string& path, const std::string& hint) {
    struct Depth {
      int& d;
      explicit Depth(int& x) : d(++x) {}
      ~Depth() { --d; }
    } depth(depth_);
    if (depth_ > kMaxSchemaDepth) fail(path, "schema nested deeper than " + std::to_string(kMaxSchemaDepth));
    if (s.is_boolean()) {
      if (s.get<bool>()) return "value";
      fail(path, "the schema 'false' matches nothing");
    }
    if (!s.is_object()) fail(path, "a schema must be an object or a boolean");
    check_keywords(s, path);
    if (s.contains("$ref")) return ref(s, path);
    if (s.contains("const")) {
      if (!of_type(s, s["const"])) fail(path, "const does not have the schema's type");
      return literal(s["const"].dump());
    }
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) fail(path, "enum must be a non-empty array");
      std::string alts;
      for (const Json& v : s["enum"])  // values of another type than `type` cannot validate
        if (of_type(s, v)) alts += (alts.empty() ? "" : " | ") + literal(v.dump());
      if (alts.empty()) fail(path, "no enum value has the schema's type");
      return add_rule(hint, alts);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const Json& list = s[key];
      if (!list.is_array() || list.empty()) fail(path, std::string(key) + " must be a non-empty array");
      std::string alts;
      for (size_t i = 0; i < list.size(); ++i)
        alts += (alts.empty() ? "" : " | ") +
                visit(list[i], path + "/" + key + "/" + std::to_string(i), hint + "-" + std::to_string(i));
      return add_rule(hint, alts);
    }
    if (!s.contains("type")) {
      if (s.contains("properties") || s.contains("additionalProperties")) return object(s, path, hint);
      if (s.contains("items")) return array(s, path, hint);
      return "value";
    }
    const Json& type = s["type"];
    if (type.is_string()) return typed(s, type.get<std::string>(), path, hint);
    if (!type.is_array() || type.empty()) fail(path, "type must be a string or a non-empty array");
    std::string alts;
    for (const Json& t : type) {
      if (!t.is_string()) fail(path, "type must name types");
      alts += (alts.empty() ? "" : " | ") + typed(s, t.get<std::string>(), path, hint);
    }
    return add_rule(hint, alts);
  }

  // Whether value v has (one of) the types s names; true without `type`.
  static bool of_type(const Json& s, const Json& v) {
    if (!s.contains("type")) return true;
    auto is = [&](const Json& t) {
      if (!t.is_string()) return false;
      const std::string n = t.get<std::string>();
      return (n == "object" && v.is_object()) || (n == "array" && v.is_array()) ||
             (n == "string" && v.is_string()) || (n == "number" && v.is_number()) ||
             (n == "integer" && (v.is_number_integer() ||
                                 (v.is_number_float() && v.get<double>() == std::floor(v.get<double>())))) ||
             (n == "boolean" && v.is_boolean()) || (n == "null" && v.is_null());
    };
    const Json& t = s["type"];
    if (!t.is_array()) return is(t);
    for (const Json& x : t)
      if (is(x)) return true;
    return false;
  }

  std::string typed(const Json& s, const std::string& type, const std::string& path,
                    const std::string& hint) {
    if (type == "object") return object(s, path, hint);
    if (type == "array") return array(s, path, hint);
    if (type == "string") return string(s, path, hint);
    if (type == "number" || type == "integer" || type == "boolean" || type == "null") return type;
    fail(path, "unknown type '" + type + "'");
  }

  std::string ref(const Json& s, const std::string& path) {
    for (auto it = s.begin(); it != s.end(); ++it)
      if (!kAnnotations.count(it.key()) && it.key() != "$ref" && it.key() != "$defs" &&
          it.key() != "definitions")
        fail(path, "'$ref' beside other keywords ('" + it.key() + "') is not supported");
    if (!s["$ref"].is_string()) fail(path, "$ref must be a string");
    const std::string r = s["$ref"].get<std::string>();
    if (auto it = refs_.find(r); it != refs_.end()) return it->second;
    const Json* target = nullptr;
    std::string name;
    if (r == "#") {
      target = &root_;
      name = "root-ref";
    }
    for (const char* defs : {"#/$defs/", "#/definitions/"}) {
      const std::string prefix = defs;
      if (r.compare(0, prefix.size(), prefix) != 0) continue;
      name = r.substr(prefix.size());
      const std::string key = prefix.substr(2, prefix.size() - 3);
      if (root_.contains(key) && root_[key].is_object() && root_[key].contains(name))
        target = &root_[key][name];
    }
    if (!target) fail(path, "$ref '" + r + "' does not name a local $defs/definitions entry");
    const std::string rule = add_rule("def-" + name, "");  // reserved first: recursion
    refs_[r] = rule;
    const std::string body = visit(*target, r.substr(1), "def-" + name);
    for (auto& [n, b] : rules_)
      if (n == rule) b = body;
    return rule;
  }

  std::string string(const Json& s, const std::string& path, const std::string& hint) {
    const uint64_t lo = count(s, "minLength", path, 0);
    const bool has_max = s.contains("maxLength");
    const uint64_t hi = count(s, "maxLength", path, 0);
    if (has_max && hi < lo) fail(path, "maxLength below minLength");
    if (s.contains("pattern")) {
      if (s.contains("minLength") || s.contains("maxLength"))
        fail(path, "pattern together with minLength/maxLength is not supported");
      if (!s["pattern"].is_string()) fail(path, "pattern must be a string");
      auto p = pattern_to_gbnf(s["pattern"].get<std::string>());
      if (!p) fail(path, p.error().message());
      return add_rule(hint, "\"\\\"\" " + *p + " \"\\\"\"");
    }
    if (!s.contains("minLength") && !has_max) return "string";
    return add_rule(hint, "\"\\\"\" char" + repeat_suffix(lo, has_max ? int64_t(hi) : -1) +
                              " \"\\\"\"");
  }

  std::string array(const Json& s, const std::string& path, const std::string& hint) {
    const uint64_t lo = count(s, "minItems", path, 0);
    const bool has_max = s.contains("maxItems");
    const uint64_t hi = count(s, "maxItems", path, 0);
    if (has_max && hi < lo) fail(path, "maxItems below minItems");
    const std::string item =
        s.contains("items") ? visit(s["items"], path + "/items", hint + "-item") : "value";
    if (has_max && hi == 0) return add_rule(hint, "\"[\" ws \"]\"");
    const uint64_t first = std::max<uint64_t>(lo, 1) - 1;
    std::string body = item + " ws ( \",\" ws " + item + " ws )" +
                       repeat_suffix(first, has_max ? int64_t(hi) - 1 : -1);
    if (lo == 0) body = "( " + body + " )?";
    return add_rule(hint, "\"[\" ws " + body + " \"]\"");
  }

  std::string object(const Json& s, const std::string& path, const std::string& hint) {
    const Json* ap = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
    const bool has_props = s.contains("properties");
    if (has_props && !s["properties"].is_object()) fail(path, "properties must be an object");
    const bool ap_false = ap && ap->is_boolean() && !ap->get<bool>();
    if (!has_props) {
      if (s.contains("required") && !s["required"].empty())
        fail(path, "required without properties is not supported (list them in properties)");
      if (!ap || (ap->is_boolean() && ap->get<bool>())) return "object";
      if (ap_false) return add_rule(hint, "\"{\" ws \"}\"");
      const std::string v = visit(*ap, path + "/additionalProperties", hint + "-value");
      const std::string m = "string ws \":\" ws " + v + " ws";
      return add_rule(hint, "\"{\" ws ( " + m + " ( \",\" ws " + m + " )* )? \"}\"");
    }
    if (ap && !ap_false)
      fail(path, "additionalProperties other than false beside properties is not supported");
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) fail(path, "required must be an array");
      for (const Json& r : s["required"]) {
        if (!r.is_string()) fail(path, "required must list strings");
        if (!s["properties"].contains(r.get<std::string>()))
          fail(path, "required property '" + r.get<std::string>() + "' is not in properties");
        required.insert(r.get<std::string>());
      }
    }
    struct Prop {
      std::string kv;
      bool req;
    };
    std::vector<Prop> props;
    for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it) {
      const std::string v = visit(it.value(), path + "/properties/" + it.key(), hint + "-" + it.key());
      props.push_back({literal(Json(it.key()).dump()) + " ws \":\" ws " + v + " ws",
                       required.count(it.key()) > 0});
    }
    // From the last property back: A_i (something written before) and F_i (nothing yet).
    std::string a_next = "", f_next = "";
    for (size_t i = props.size(); i-- > 0;) {
      const Prop& p = props[i];
      const std::string a = p.req ? "\",\" ws " + p.kv + " " + a_next
                                  : "( \",\" ws " + p.kv + " )? " + a_next;
      const std::string f = p.req ? p.kv + " " + a_next : p.kv + " " + a_next + " | " + f_next;
      a_next = add_rule(hint + "-a" + std::to_string(i), a);
      f_next = add_rule(hint + "-f" + std::to_string(i), f);
    }
    return add_rule(hint, "\"{\" ws " + f_next + " \"}\"");
  }
};

}  // namespace

Result<std::string> json_schema_to_gbnf(std::string_view schema_json) {
  Json schema = Json::parse(schema_json.begin(), schema_json.end(), nullptr, false);
  if (schema.is_discarded())
    return Error(ErrorCode::invalid_argument, "JSON Schema: not valid JSON");
  try {
    return Converter(schema).run();
  } catch (const SchemaFail& f) {
    return Error(ErrorCode::invalid_argument, "JSON Schema " + f.path + ": " + f.what);
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::invalid_argument, std::string("JSON Schema: ") + e.what());
  }
}

std::string json_object_gbnf() { return std::string("root ::= object\n") + kPrimitives; }

}  // namespace nibble::grammar
