// Helpers shared by the filters (filters.cpp) and the tests, methods and globals
// (builtins.cpp). Internal to the chat layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/interpreter.h"
#include "chat/value.h"

namespace nibble::chat::detail {

std::string ascii_upper(std::string s);
std::string ascii_lower(std::string s);
std::string title_case(std::string s);
std::string capitalize(std::string s);
// Positional argument `pos`, else the keyword argument `name`; nullptr when neither is given.
const Value* arg(const Args& args, const Kwargs& kwargs, size_t pos, const char* name);
// The string value of v; fails naming `what` otherwise.
const std::string& need_string(const Value* v, const char* what);
// s with `from` replaced by `to`, at most `count` times (-1: all).
std::string replace_all(Interpreter& in, const std::string& s, const std::string& from,
                        const std::string& to, int64_t count);
// Python's str.split(sep, maxsplit) as a list value.
Value split(Interpreter& in, const std::string& s, const Value* sep, const Value* maxv);
// v.a.b... for "a.b" (undefined where a step is missing).
Value get_attr_path(const Value& v, const std::string& path);
int compare_values(const Value& a, const Value& b);
// The elements of a list, the keys of a dict, the characters of a string.
ValueList as_items(const Value& v);

}  // namespace nibble::chat::detail
