// Tests, methods of strings/dicts/lists, global functions and the helpers they share with the
// filters (filters.cpp). Case mapping is ASCII only (documented in docs/chat-templates.md);
// whitespace stripping knows the Unicode spaces JavaScript's trim() knows, because the
// reference renders with it.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "chat/builtins_detail.h"
#include "chat/interpreter.h"
#include "runtime/clock.h"
#include "runtime/overflow.h"

namespace nibble::chat {

std::vector<std::string> utf8_chars(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    }
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// JavaScript's String.prototype.trim() whitespace set.
static bool is_js_space(std::string_view ch) {
  if (ch.size() == 1) {
    char c = ch[0];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }
  static const char* const kSpaces[] = {"\u00a0", "\u1680", "\u2000", "\u2001", "\u2002",
                                        "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
                                        "\u2008", "\u2009", "\u200a", "\u2028", "\u2029",
                                        "\u202f", "\u205f", "\u3000", "\ufeff"};
  for (const char* sp : kSpaces) {
    if (ch == sp) return true;
  }
  return false;
}

std::string strip_chars(std::string_view s, const Value* chars, bool left, bool right) {
  auto cs = utf8_chars(s);
  std::vector<std::string> set;
  const bool custom = chars && chars->is_string();
  if (custom) set = utf8_chars(chars->s);
  auto strip_it = [&](const std::string& c) {
    if (!custom) return is_js_space(c);
    return std::find(set.begin(), set.end(), c) != set.end();
  };
  size_t b = 0, e = cs.size();
  if (left) {
    while (b < e && strip_it(cs[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(cs[e - 1])) --e;
  }
  std::string out;
  for (size_t i = b; i < e; ++i) out += cs[i];
  return out;
}

namespace detail {

std::string ascii_upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return s;
}
std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
std::string title_case(std::string s) {
  bool prev_alpha = false;
  for (char& c : s) {
    if (is_alpha(c)) {
      c = prev_alpha ? (c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c)
                     : (c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
      prev_alpha = true;
    } else {
      prev_alpha = static_cast<unsigned char>(c) >= 0x80 && prev_alpha;
    }
  }
  return s;
}
std::string capitalize(std::string s) {
  s = ascii_lower(std::move(s));
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 32);
  return s;
}

const Value* arg(const Args& args, const Kwargs& kwargs, size_t pos, const char* name) {
  for (const auto& [k, v] : kwargs) {
    if (k == name) return &v;
  }
  return pos < args.size() ? &args[pos] : nullptr;
}

const std::string& need_string(const Value* v, const char* what) {
  if (!v || !v->is_string()) fail(std::string(what) + " must be a string");
  return v->s;
}

std::string replace_all(Interpreter& in, const std::string& s, const std::string& from,
                        const std::string& to, int64_t count) {
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  if (from.empty()) {
    // Python inserts `to` between characters (and at both ends).
    auto cs = utf8_chars(s);
    for (size_t i = 0; i <= cs.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < cs.size()) out += cs[i];
      in.check_string(out.size());
    }
    return out;
  }
  while (count < 0 || done < count) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    ++done;
    in.check_string(out.size());
  }
  out.append(s, pos);
  in.check_string(out.size());
  return out;
}

Value split(Interpreter& in, const std::string& s, const Value* sep, const Value* maxv) {
  int64_t max = maxv && maxv->kind == Value::Kind::integer ? maxv->i : -1;
  ValueList parts;
  if (!sep || sep->is_none() || sep->is_undefined()) {
    // Whitespace split, dropping empty parts.
    auto cs = utf8_chars(s);
    std::string cur;
    bool in_word = false;
    size_t i = 0;
    for (; i < cs.size(); ++i) {
      if (is_js_space(cs[i])) {
        if (in_word) {
          parts.push_back(Value::string(std::move(cur)));
          cur.clear();
          in_word = false;
        }
        continue;
      }
      if (!in_word && max >= 0 && static_cast<int64_t>(parts.size()) == max) {
        std::string rest;
        for (size_t k = i; k < cs.size(); ++k) rest += cs[k];
        parts.push_back(Value::string(strip_chars(rest, nullptr, false, true)));
        return Value::make_list(std::move(parts));
      }
      in_word = true;
      cur += cs[i];
    }
    if (in_word) parts.push_back(Value::string(std::move(cur)));
    in.step(parts.size());
    return Value::make_list(std::move(parts));
  }
  const std::string& d = need_string(sep, "split separator");
  if (d.empty()) fail("split: empty separator");
  size_t pos = 0;
  for (;;) {
    size_t hit = s.find(d, pos);
    if (hit == std::string::npos || (max >= 0 && static_cast<int64_t>(parts.size()) == max)) break;
    parts.push_back(Value::string(s.substr(pos, hit - pos)));
    pos = hit + d.size();
    in.step();
  }
  parts.push_back(Value::string(s.substr(pos)));
  return Value::make_list(std::move(parts));
}

// Attribute lookup for map/selectattr/sort/join: "a.b" walks nested dicts.
Value get_attr_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (cur.is_list()) {
      char* end = nullptr;
      long idx = std::strtol(part.c_str(), &end, 10);
      int64_t i = idx;
      if (end && *end == '\0' && !part.empty() && i >= 0 &&
          static_cast<size_t>(i) < cur.list->size()) {
        cur = (*cur.list)[static_cast<size_t>(i)];
      } else {
        return Value::undefined();
      }
    } else {
      const Value* next = cur.find(part);
      if (!next) return Value::undefined();
      cur = *next;
    }
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return cur;
}

int compare_values(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.s.compare(b.s);
  if (a.kind == Value::Kind::boolean && b.kind == Value::Kind::boolean) return int(a.b) - int(b.b);
  fail(std::string("cannot compare a ") + kind_name(a.kind) + " with a " + kind_name(b.kind));
}

ValueList as_items(const Value& v) {
  if (v.is_list()) return *v.list;
  if (v.is_dict()) {
    ValueList out;
    for (const auto& [k, e] : *v.dict) out.push_back(Value::string(k));
    return out;
  }
  if (v.is_string()) {
    ValueList out;
    for (auto& c : utf8_chars(v.s)) out.push_back(Value::string(std::move(c)));
    return out;
  }
  if (v.is_undefined() || v.is_none()) return {};
  fail(std::string("a ") + kind_name(v.kind) + " is not iterable");
}

}  // namespace detail

using namespace detail;

bool Interpreter::apply_test(const std::string& name, const Value& v, const Args& args) {
  step();
  using K = Value::Kind;
  auto need_arg = [&]() -> const Value& {
    if (args.empty()) fail("test '" + name + "' needs an argument");
    return args[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == K::boolean;
  if (name == "true") return v.kind == K::boolean && v.b;
  if (name == "false") return v.kind == K::boolean && !v.b;
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == K::integer;
  if (name == "float") return v.kind == K::floating;
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "callable") return v.kind == K::macro;
  if (name == "odd" || name == "even") {
    if (v.kind != K::integer) fail("test '" + name + "' needs an integer");
    return (v.i % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const Value& d = need_arg();
    if (v.kind != K::integer || d.kind != K::integer || d.i == 0)
      fail("divisibleby needs non-zero integers");
    if (d.i == -1) return true;
    return v.i % d.i == 0;
  }
  if (name == "lower") return v.is_string() && ascii_lower(v.s) == v.s;
  if (name == "upper") return v.is_string() && ascii_upper(v.s) == v.s;
  if (name == "equalto" || name == "eq" || name == "==" || name == "sameas")
    return equals(v, need_arg());
  if (name == "ne" || name == "!=") return !equals(v, need_arg());
  if (name == "lt" || name == "gt" || name == "le" || name == "ge") {
    int c = compare_values(v, need_arg());
    return name == "lt" ? c < 0 : name == "gt" ? c > 0 : name == "le" ? c <= 0 : c >= 0;
  }
  if (name == "in") {
    const Value& c = need_arg();
    if (c.is_string()) return v.is_string() && c.s.find(v.s) != std::string::npos;
    if (c.is_dict()) return v.is_string() && c.find(v.s);
    if (c.is_list()) {
      for (const auto& e : *c.list) {
        if (equals(v, e)) return true;
      }
      return false;
    }
    fail("test 'in' needs a container");
  }
  fail("unknown test '" + name + "'");
}

Value Interpreter::call_method(Value& obj, const std::string& name, const Args& args,
                               const Kwargs& kwargs) {
  step();
  if (obj.is_string()) {
    const std::string& s = obj.s;
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      return Value::string(
          strip_chars(s, arg(args, kwargs, 0, "chars"), name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
      const Value* p = arg(args, kwargs, 0, "prefix");
      auto check = [&](const Value& x) {
        const std::string& t = need_string(&x, name.c_str());
        if (t.size() > s.size()) return false;
        return name == "startswith" ? s.compare(0, t.size(), t) == 0
                                    : s.compare(s.size() - t.size(), t.size(), t) == 0;
      };
      if (!p) fail(name + " needs an argument");
      if (p->is_list()) {
        for (const auto& e : *p->list) {
          if (check(e)) return Value::boolean(true);
        }
        return Value::boolean(false);
      }
      return Value::boolean(check(*p));
    }
    if (name == "split")
      return split(*this, s, arg(args, kwargs, 0, "sep"), arg(args, kwargs, 1, "maxsplit"));
    if (name == "upper") return Value::string(ascii_upper(s));
    if (name == "lower") return Value::string(ascii_lower(s));
    if (name == "title") return Value::string(title_case(s));
    if (name == "capitalize") return Value::string(capitalize(s));
    if (name == "replace") {
      const Value* c = arg(args, kwargs, 2, "count");
      return Value::string(replace_all(*this, s,
                                       need_string(arg(args, kwargs, 0, "old"), "replace: old"),
                                       need_string(arg(args, kwargs, 1, "new"), "replace: new"),
                                       c && c->kind == Value::Kind::integer ? c->i : -1));
    }
    if (name == "find") {
      size_t p = s.find(need_string(arg(args, kwargs, 0, "sub"), "find: sub"));
      return Value::integer(p == std::string::npos ? -1 : static_cast<int64_t>(p));
    }
    if (name == "join") return apply_filter("join", args.empty() ? Value() : args[0], {obj}, {});
    if (name == "format") fail("str.format is not supported");
  }
  if (obj.is_dict()) {
    if (name == "items") return apply_filter("items", obj, {}, {});
    if (name == "keys" || name == "values") {
      ValueList out;
      for (const auto& [k, v] : *obj.dict) out.push_back(name == "keys" ? Value::string(k) : v);
      return Value::make_list(std::move(out));
    }
    if (name == "get") {
      const Value* key = arg(args, kwargs, 0, "key");
      if (key && key->is_string()) {
        if (const Value* v = obj.find(key->s)) return *v;
      }
      const Value* dflt = arg(args, kwargs, 1, "default");
      return dflt ? *dflt : Value::none();
    }
  }
  if (obj.is_list()) {
    if (name == "append") {
      if (args.size() != 1) fail("append takes one argument");
      step(obj.list->size() / 64);
      note_mutation(obj, args[0]);
      obj.list->push_back(args[0]);
      return Value::none();
    }
    if (name == "pop") {
      if (obj.list->empty()) fail("pop from an empty list");
      int64_t i = args.empty() || args[0].kind != Value::Kind::integer ? -1 : args[0].i;
      if (i < 0) i += static_cast<int64_t>(obj.list->size());
      if (i < 0 || static_cast<size_t>(i) >= obj.list->size()) fail("pop index out of range");
      Value v = (*obj.list)[static_cast<size_t>(i)];
      obj.list->erase(obj.list->begin() + i);
      return v;
    }
  }
  fail(std::string("unknown method '") + name + "' of a " + kind_name(obj.kind));
}

Value Interpreter::call_global(const std::string& name, const Args& args, const Kwargs& kwargs) {
  step();
  if (name == "raise_exception") {
    fail(args.empty() ? std::string("raise_exception called") : to_output(args[0]));
  }
  if (name == "range") {
    int64_t start = 0, stop = 0, stp = 1;
    for (const auto& a : args) {
      if (a.kind != Value::Kind::integer) fail("range arguments must be integers");
    }
    if (args.size() == 1) {
      stop = args[0].i;
    } else if (args.size() >= 2 && args.size() <= 3) {
      start = args[0].i;
      stop = args[1].i;
      if (args.size() == 3) stp = args[2].i;
    } else {
      fail("range takes 1 to 3 arguments");
    }
    if (stp == 0) fail("range step cannot be zero");
    // Count first, so a huge range fails before allocating anything.
    const __int128 span = stp > 0 ? (__int128)stop - start : (__int128)start - stop;
    const __int128 count = span <= 0 ? 0
                                     : (span + (stp > 0 ? stp : -(__int128)stp) - 1) /
                                           (stp > 0 ? stp : -(__int128)stp);
    step(count > (__int128)limits_max_steps_hint() ? limits_max_steps_hint() + 1
                                                   : static_cast<size_t>(count));
    ValueList out;
    for (int64_t i = start; stp > 0 ? i < stop : i > stop;) {
      step();
      out.push_back(Value::integer(i));
      if (add_overflow(i, stp, &i)) break;
    }
    return Value::make_list(std::move(out));
  }
  if (name == "namespace" || name == "dict") {
    Value d = Value::make_dict();
    d.is_namespace = name == "namespace";
    for (const auto& a : args) {
      if (!a.is_dict()) fail(name + "() takes keyword arguments or a dict");
      for (const auto& [k, v] : *a.dict) d.set(k, v);
    }
    for (const auto& [k, v] : kwargs) d.set(k, v);
    return d;
  }
  if (name == "strftime_now") {
    const Value* fmt = arg(args, kwargs, 0, "format");
    const std::string& f = need_string(fmt, "strftime_now: format");
    if (f.size() > 256) fail("strftime_now: format too long");
    const std::tm tm = local_time(std::time(nullptr));
    char buf[1024];
    size_t len = std::strftime(buf, sizeof buf, f.c_str(), &tm);
    return Value::string(std::string(buf, len));
  }
  fail("unknown function '" + name + "'");
}

}  // namespace nibble::chat
