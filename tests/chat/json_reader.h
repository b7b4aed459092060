// Minimal JSON reader for the chat tests' golden data, producing chat::Value (the interpreter's
// own value type doubles as the DOM). Strict enough for files we generate; returns false on
// malformed input.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "chat/value.h"

namespace nibble::chat::test {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  bool parse(Value* out) {
    if (!value(out, 0)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t i_ = 0;

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static void put_utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) {
      o += static_cast<char>(cp);
    } else if (cp < 0x800) {
      o += static_cast<char>(0xC0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o += static_cast<char>(0xE0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      o += static_cast<char>(0xF0 | (cp >> 18));
      o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(uint32_t* cp) {
    if (i_ + 4 > s_.size()) return false;
    auto r = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, *cp, 16);
    if (r.ptr != s_.data() + i_ + 4) return false;
    i_ += 4;
    return true;
  }
  bool string(std::string* o) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        *o += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case 'n':
          *o += '\n';
          break;
        case 't':
          *o += '\t';
          break;
        case 'r':
          *o += '\r';
          break;
        case 'b':
          *o += '\b';
          break;
        case 'f':
          *o += '\f';
          break;
        case '/':
          *o += '/';
          break;
        case '\\':
          *o += '\\';
          break;
        case '"':
          *o += '"';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && lit("\\u")) {
            uint32_t lo;
            if (!hex4(&lo)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(*o, cp);
          break;
        }
        default:
          return false;
      }
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  bool value(Value* out, int depth) {
    if (depth > 64) return false;
    ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') {
      std::string str;
      if (!string(&str)) return false;
      *out = Value::string(std::move(str));
      return true;
    }
    if (c == '{') {
      ++i_;
      *out = Value::make_dict();
      ws();
      if (lit("}")) return true;
      for (;;) {
        ws();
        std::string key;
        if (!string(&key)) return false;
        ws();
        if (!lit(":")) return false;
        Value v;
        if (!value(&v, depth + 1)) return false;
        out->set(key, std::move(v));
        ws();
        if (lit("}")) return true;
        if (!lit(",")) return false;
      }
    }
    if (c == '[') {
      ++i_;
      *out = Value::make_list();
      ws();
      if (lit("]")) return true;
      for (;;) {
        Value v;
        if (!value(&v, depth + 1)) return false;
        out->list->push_back(std::move(v));
        ws();
        if (lit("]")) return true;
        if (!lit(",")) return false;
      }
    }
    if (lit("true")) return *out = Value::boolean(true), true;
    if (lit("false")) return *out = Value::boolean(false), true;
    if (lit("null")) return *out = Value::none(), true;
    size_t start = i_;
    while (i_ < s_.size() &&
           (std::string_view("+-.eE0123456789").find(s_[i_]) != std::string_view::npos))
      ++i_;
    std::string_view num = s_.substr(start, i_ - start);
    if (num.empty()) return false;
    if (num.find_first_of(".eE") == std::string_view::npos) {
      int64_t v;
      if (std::from_chars(num.data(), num.data() + num.size(), v).ec != std::errc()) return false;
      *out = Value::integer(v);
    } else {
      double v;
      if (std::from_chars(num.data(), num.data() + num.size(), v).ec != std::errc()) return false;
      *out = Value::floating(v);
    }
    return true;
  }
};

}  // namespace nibble::chat::test
