// Jinja filters (`value | name(args)`), one function each, and the table that names them.
// Case mapping is ASCII only (docs/chat-templates.md).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "chat/builtins_detail.h"
#include "chat/interpreter.h"
#include "runtime/overflow.h"

namespace nibble::chat {
namespace {

using namespace detail;

std::string str_in(const Value& v) { return v.is_string() ? v.s : to_output(v); }

Value filter_trim(Interpreter& in, const std::string& name, Value& v, const Args& args,
                  const Kwargs& kwargs) {
  return Value::string(strip_chars(str_in(v), arg(args, kwargs, 0, "chars"), true, true));
}

Value filter_length(Interpreter& in, const std::string& name, Value& v, const Args& args,
                    const Kwargs& kwargs) {
  if (v.is_string()) return Value::integer(static_cast<int64_t>(utf8_chars(v.s).size()));
  if (v.is_list()) return Value::integer(static_cast<int64_t>(v.list->size()));
  if (v.is_dict()) return Value::integer(static_cast<int64_t>(v.dict->size()));
  if (v.is_undefined() || v.is_none()) return Value::integer(0);
  fail(std::string("a ") + kind_name(v.kind) + " has no length");
}

Value filter_tojson(Interpreter& in, const std::string& name, Value& v, const Args& args,
                    const Kwargs& kwargs) {
  const Value* ind = arg(args, kwargs, 0, "indent");
  int indent = ind && ind->kind == Value::Kind::integer
                   ? static_cast<int>(std::clamp<int64_t>(ind->i, 0, 64))
                   : -1;
  std::string s = to_json(v, indent);
  in.check_string(s.size());
  return Value::string(std::move(s));
}

Value filter_upper(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  return Value::string(ascii_upper(str_in(v)));
}

Value filter_lower(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  return Value::string(ascii_lower(str_in(v)));
}

Value filter_capitalize(Interpreter& in, const std::string& name, Value& v, const Args& args,
                        const Kwargs& kwargs) {
  return Value::string(capitalize(str_in(v)));
}

Value filter_title(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  return Value::string(title_case(str_in(v)));
}

Value filter_string(Interpreter& in, const std::string& name, Value& v, const Args& args,
                    const Kwargs& kwargs) {
  return Value::string(str_in(v));
}

Value filter_safe_escape(Interpreter& in, const std::string& name, Value& v, const Args& args,
                         const Kwargs& kwargs) {
  if (name == "safe") return v;
  std::string out;
  for (char c : str_in(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  in.check_string(out.size());
  return Value::string(std::move(out));
}

Value filter_replace(Interpreter& in, const std::string& name, Value& v, const Args& args,
                     const Kwargs& kwargs) {
  const std::string& from = need_string(arg(args, kwargs, 0, "old"), "replace: old");
  const std::string& to = need_string(arg(args, kwargs, 1, "new"), "replace: new");
  const Value* c = arg(args, kwargs, 2, "count");
  return Value::string(
      replace_all(in, str_in(v), from, to, c && c->kind == Value::Kind::integer ? c->i : -1));
}

Value filter_join(Interpreter& in, const std::string& name, Value& v, const Args& args,
                  const Kwargs& kwargs) {
  const Value* sep = arg(args, kwargs, 0, "d");
  const Value* attr = arg(args, kwargs, 1, "attribute");
  std::string d = sep && sep->is_string() ? sep->s : "";
  std::string out;
  bool first = true;
  for (const auto& e : as_items(v)) {
    if (!first) out += d;
    first = false;
    out += to_output(attr && attr->is_string() ? get_attr_path(e, attr->s) : e);
    in.check_string(out.size());
  }
  return Value::string(std::move(out));
}

Value filter_default(Interpreter& in, const std::string& name, Value& v, const Args& args,
                     const Kwargs& kwargs) {
  const Value* dflt = arg(args, kwargs, 0, "default_value");
  const Value* boolean = arg(args, kwargs, 1, "boolean");
  bool use = v.is_undefined() || (boolean && truthy(*boolean) && !truthy(v));
  if (use) return dflt ? *dflt : Value::string("");
  return v;
}

Value filter_first_last(Interpreter& in, const std::string& name, Value& v, const Args& args,
                        const Kwargs& kwargs) {
  ValueList items = as_items(v);
  if (items.empty()) return Value::undefined();
  return name == "first" ? items.front() : items.back();
}

Value filter_list(Interpreter& in, const std::string& name, Value& v, const Args& args,
                  const Kwargs& kwargs) {
  return Value::make_list(as_items(v));
}

Value filter_reverse(Interpreter& in, const std::string& name, Value& v, const Args& args,
                     const Kwargs& kwargs) {
  if (v.is_string()) {
    auto cs = utf8_chars(v.s);
    std::string out;
    for (auto it = cs.rbegin(); it != cs.rend(); ++it) out += *it;
    return Value::string(std::move(out));
  }
  ValueList items = as_items(v);
  std::reverse(items.begin(), items.end());
  return Value::make_list(std::move(items));
}

Value filter_items(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  if (!v.is_dict()) {
    if (v.is_undefined() || v.is_none()) return Value::make_list();
    fail(std::string("'") + name + "' needs a dict, not a " + kind_name(v.kind));
  }
  ValueList out;
  for (const auto& [k, e] : *v.dict) out.push_back(Value::make_list({Value::string(k), e}));
  if (name == "dictsort") {
    std::stable_sort(out.begin(), out.end(), [](const Value& a, const Value& b) {
      return (*a.list)[0].s < (*b.list)[0].s;
    });
  }
  return Value::make_list(std::move(out));
}

Value filter_int(Interpreter& in, const std::string& name, Value& v, const Args& args,
                 const Kwargs& kwargs) {
  if (v.kind == Value::Kind::integer) return v;
  if (v.kind == Value::Kind::floating) {
    if (!std::isfinite(v.f) || std::fabs(v.f) > 9.2e18) return Value::integer(0);
    return Value::integer(static_cast<int64_t>(v.f));
  }
  if (v.kind == Value::Kind::boolean) return Value::integer(v.b);
  if (v.is_string()) {
    std::string t = strip_chars(v.s, nullptr, true, true);
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(t.c_str(), &end, 10);
    if (!t.empty() && end && *end == '\0' && errno == 0) return Value::integer(x);
  }
  const Value* dflt = arg(args, kwargs, 0, "default");
  return dflt ? *dflt : Value::integer(0);
}

Value filter_float(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  if (v.is_number()) return Value::floating(v.as_double());
  if (v.is_string()) {
    char* end = nullptr;
    double x = std::strtod(v.s.c_str(), &end);
    if (!v.s.empty() && end && *end == '\0') return Value::floating(x);
  }
  return Value::floating(0);
}

Value filter_abs(Interpreter& in, const std::string& name, Value& v, const Args& args,
                 const Kwargs& kwargs) {
  if (v.kind == Value::Kind::integer) {
    if (v.i == INT64_MIN) fail("integer overflow");
    return Value::integer(v.i < 0 ? -v.i : v.i);
  }
  if (v.kind == Value::Kind::floating) return Value::floating(std::fabs(v.f));
  fail("abs needs a number");
}

Value filter_round(Interpreter& in, const std::string& name, Value& v, const Args& args,
                   const Kwargs& kwargs) {
  if (!v.is_number()) fail("round needs a number");
  const Value* p = arg(args, kwargs, 0, "precision");
  const Value* m = arg(args, kwargs, 1, "method");
  int64_t prec = p && p->kind == Value::Kind::integer ? std::clamp<int64_t>(p->i, 0, 15) : 0;
  std::string method = m && m->is_string() ? m->s : "common";
  double scale = std::pow(10.0, static_cast<double>(prec));
  double x = v.as_double() * scale;
  x = method == "ceil"    ? std::ceil(x)
      : method == "floor" ? std::floor(x)
                          : std::nearbyint(x);  // Python rounds half to even
  return Value::floating(x / scale);
}

Value filter_indent(Interpreter& in, const std::string& name, Value& v, const Args& args,
                    const Kwargs& kwargs) {
  const Value* w = arg(args, kwargs, 0, "width");
  const Value* first = arg(args, kwargs, 1, "first");
  const Value* blank = arg(args, kwargs, 2, "blank");
  std::string pad = w && w->is_string()
                        ? w->s
                        : std::string(static_cast<size_t>(std::clamp<int64_t>(
                                          w && w->kind == Value::Kind::integer ? w->i : 4, 0, 256)),
                                      ' ');
  std::string s = str_in(v), out;
  size_t pos = 0;
  bool first_line = true;
  for (;;) {
    size_t nl = s.find('\n', pos);
    std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    bool add =
        first_line ? (first && truthy(*first)) : (!line.empty() || (blank && truthy(*blank)));
    if (add) out += pad;
    out += line;
    in.check_string(out.size());
    if (nl == std::string::npos) break;
    out += '\n';
    pos = nl + 1;
    first_line = false;
  }
  return Value::string(std::move(out));
}

Value filter_map(Interpreter& in, const std::string& name, Value& v, const Args& args,
                 const Kwargs& kwargs) {
  ValueList out;
  const Value* attr = arg(args, kwargs, 99, "attribute");
  for (const auto& e : as_items(v)) {
    in.step();
    if (attr) {
      Value r = get_attr_path(e, need_string(attr, "map: attribute"));
      if (r.is_undefined()) {
        if (const Value* d = arg(args, kwargs, 99, "default")) r = *d;
      }
      out.push_back(std::move(r));
    } else {
      if (args.empty()) fail("map needs a filter name or attribute=");
      Args rest(args.begin() + 1, args.end());
      out.push_back(in.apply_filter(need_string(&args[0], "map: filter name"), e, rest, {}));
    }
  }
  return Value::make_list(std::move(out));
}

Value filter_select_reject(Interpreter& in, const std::string& name, Value& v, const Args& args,
                           const Kwargs& kwargs) {
  const bool by_attr = name == "selectattr" || name == "rejectattr";
  const bool keep_if = name == "selectattr" || name == "select";
  size_t i0 = by_attr ? 1 : 0;
  if (by_attr && args.empty()) fail(name + " needs an attribute name");
  ValueList out;
  for (const auto& e : as_items(v)) {
    in.step();
    Value subject = by_attr ? get_attr_path(e, need_string(&args[0], "attribute name")) : e;
    bool r;
    if (args.size() > i0) {
      Args rest(args.begin() + static_cast<long>(i0) + 1, args.end());
      r = in.apply_test(need_string(&args[i0], "test name"), subject, rest);
    } else {
      r = truthy(subject);
    }
    if (r == keep_if) out.push_back(e);
  }
  return Value::make_list(std::move(out));
}

Value filter_unique(Interpreter& in, const std::string& name, Value& v, const Args& args,
                    const Kwargs& kwargs) {
  ValueList out;
  for (const auto& e : as_items(v)) {
    in.step(out.size() + 1);
    bool seen = false;
    for (const auto& o : out) seen = seen || equals(o, e);
    if (!seen) out.push_back(e);
  }
  return Value::make_list(std::move(out));
}

Value filter_sort(Interpreter& in, const std::string& name, Value& v, const Args& args,
                  const Kwargs& kwargs) {
  ValueList items = as_items(v);
  const Value* rev = arg(args, kwargs, 0, "reverse");
  const Value* attr = arg(args, kwargs, 2, "attribute");
  in.step(items.size() * 8);
  auto key = [&](const Value& e) {
    return attr && attr->is_string() ? get_attr_path(e, attr->s) : e;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return compare_values(key(a), key(b)) < 0;
  });
  if (rev && truthy(*rev)) std::reverse(items.begin(), items.end());
  return Value::make_list(std::move(items));
}

Value filter_sum_min_max(Interpreter& in, const std::string& name, Value& v, const Args& args,
                         const Kwargs& kwargs) {
  ValueList items = as_items(v);
  if (name != "sum") {
    if (items.empty()) return Value::undefined();
    Value best = items[0];
    for (const auto& e : items) {
      int c = compare_values(e, best);
      if (name == "min" ? c < 0 : c > 0) best = e;
    }
    return best;
  }
  bool is_float = false;
  int64_t si = 0;
  double sf = 0;
  for (const auto& e : items) {
    if (!e.is_number()) fail("sum needs numbers");
    if (e.kind == Value::Kind::floating) is_float = true;
    sf += e.as_double();
    if (!is_float && add_overflow(si, e.i, &si)) fail("integer overflow");
  }
  return is_float ? Value::floating(sf) : Value::integer(si);
}

Value filter_wordcount(Interpreter& in, const std::string& name, Value& v, const Args& args,
                       const Kwargs& kwargs) {
  return Value::integer(static_cast<int64_t>(split(in, str_in(v), nullptr, nullptr).list->size()));
}

using Filter = Value (*)(Interpreter&, const std::string&, Value&, const Args&, const Kwargs&);
constexpr std::pair<std::string_view, Filter> kFilters[] = {
    {"trim", filter_trim},
    {"length", filter_length},
    {"count", filter_length},
    {"tojson", filter_tojson},
    {"upper", filter_upper},
    {"lower", filter_lower},
    {"capitalize", filter_capitalize},
    {"title", filter_title},
    {"string", filter_string},
    {"safe", filter_safe_escape},
    {"e", filter_safe_escape},
    {"escape", filter_safe_escape},
    {"replace", filter_replace},
    {"join", filter_join},
    {"default", filter_default},
    {"d", filter_default},
    {"first", filter_first_last},
    {"last", filter_first_last},
    {"list", filter_list},
    {"reverse", filter_reverse},
    {"items", filter_items},
    {"dictsort", filter_items},
    {"int", filter_int},
    {"float", filter_float},
    {"abs", filter_abs},
    {"round", filter_round},
    {"indent", filter_indent},
    {"map", filter_map},
    {"selectattr", filter_select_reject},
    {"rejectattr", filter_select_reject},
    {"select", filter_select_reject},
    {"reject", filter_select_reject},
    {"unique", filter_unique},
    {"sort", filter_sort},
    {"sum", filter_sum_min_max},
    {"min", filter_sum_min_max},
    {"max", filter_sum_min_max},
    {"wordcount", filter_wordcount},
};

}  // namespace

Value Interpreter::apply_filter(const std::string& name, Value v, const Args& args,
                                const Kwargs& kwargs) {
  step();
  for (const auto& [filter_name, fn] : kFilters)
    if (filter_name == name) return fn(*this, name, v, args, kwargs);
  fail("unknown filter '" + name + "'");
}

}  // namespace nibble::chat
