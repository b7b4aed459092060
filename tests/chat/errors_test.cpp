// Every failure is nibble::Error(template_error) naming what was wrong and where (line and
// column); hostile templates hit the recursion, step and size limits instead of crashing.
#include <gtest/gtest.h>

#include <string>

#include "nibble/chat_template.h"

namespace nibble {
namespace {

// The error of parsing, or else of rendering, `src`; fails the test when both succeed.
Error error_of(std::string_view src, ChatTemplateOptions opt = {}) {
  auto t = ChatTemplate::parse(src);
  if (!t.ok()) return t.error();
  std::vector<ChatMessage> msgs = {{"user", "hi"}};
  auto r = t->render(msgs, opt);
  if (!r.ok()) return r.error();
  ADD_FAILURE() << "no error for: " << src << " (rendered: " << *r << ")";
  return Error(ErrorCode::ok, "");
}

void expect_error(std::string_view src, std::string_view needle, std::string_view where) {
  Error e = error_of(src);
  EXPECT_EQ(e.code(), ErrorCode::template_error) << src << ": " << e.to_string();
  EXPECT_NE(e.message().find(needle), std::string::npos) << src << ": " << e.message();
  EXPECT_NE(e.message().find(where), std::string::npos) << src << ": " << e.message();
}

TEST(ChatErrors, Syntax) {
  expect_error("abc {{ x ", "unterminated expression", "line 1, column 5");
  expect_error("abc\n {% if x ", "unterminated statement", "line 2, column 2");
  expect_error("{# never closed", "unterminated comment", "line 1, column 1");
  expect_error("{% if x %}no end", "unterminated block", "line 1");
  expect_error("{% for x in y %}", "endfor", "line 1, column 1");
  expect_error("{{ 'abc }}", "unterminated string", "line 1, column 4");
  expect_error("{% frobnicate %}", "unknown statement 'frobnicate'", "line 1, column 4");
  expect_error("{{ 1 + }}", "expected an expression", "line 1");
  expect_error("{{ x $ y }}", "unexpected character '$'", "line 1, column 6");
  expect_error("{% endif %}", "unknown statement 'endif'", "line 1");
  expect_error("{{ (1 }}", "expected ')'", "line 1");
  expect_error("{{ 'a\\q' }}", "unknown escape", "line 1");
  expect_error("{{ 99999999999999999999 }}", "out of range", "line 1");
  expect_error("{{ x.99999999999999999999 }}", "out of range", "line 1");  // x.N index (fuzz find)
  expect_error("{% set %}", "expected a variable name", "line 1");
  expect_error("{% for 1 in x %}{% endfor %}", "expected a loop variable", "line 1");
}

TEST(ChatErrors, Runtime) {
  expect_error("{{ 'x' | frob }}", "unknown filter 'frob'", "line 1, column 10");
  expect_error("{{ x is frob }}", "unknown test 'frob'", "line 1");
  expect_error("{{ 'x'.frob() }}", "unknown method 'frob'", "line 1");
  expect_error("{{ frob() }}", "unknown function 'frob'", "line 1");
  expect_error("line1\n{{ raise_exception('Roles must alternate') }}", "Roles must alternate",
               "line 2");
  expect_error("{{ 1 // 0 }}", "division or modulo by zero", "line 1");
  expect_error("{{ 1.0 / 0 }}", "division by zero", "line 1");
  expect_error("{{ 'a' + 1 }}", "unsupported operand types for +: string and integer", "line 1");
  expect_error("{{ 9223372036854775807 + 1 }}", "integer overflow", "line 1");
  expect_error("{% set x = 1 %}{% set x.a = 2 %}", "only on a namespace", "line 1");
  expect_error("{% for a, b in [1] %}{% endfor %}", "cannot unpack", "line 1");
  expect_error("{% for x in 5 %}{% endfor %}", "cannot iterate", "line 1");
  expect_error("{{ [1][::0] }}", "slice step cannot be zero", "line 1");
  expect_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", "takes 1 arguments", "line 1");
  expect_error("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}", "no parameter 'b'", "line 1");
  expect_error("{% break %}", "outside a loop", "line 1");
  expect_error("{{ x() }}{% set x = 1 %}", "unknown function 'x'", "line 1");
  expect_error("{% set x = 1 %}{{ x() }}", "not callable", "line 1");
  expect_error("{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns | tojson }}",
               "nested too deeply", "line 1");
  // Cycles through list.append (freed at the end of the render: the sanitizer build checks).
  expect_error("{% set xs = [] %}{% set _ = xs.append(xs) %}{{ xs == xs }}", "nested too deeply",
               "line 1");
}

TEST(ChatErrors, RecursionLimit) {
  expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion too deep",
               "line 1");
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  expect_error(deep, "nested too deeply", "line 1");
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
  expect_error(ifs, "nested too deeply", "line 1");
}

TEST(ChatErrors, StepLimit) {
  expect_error("{% for i in range(100000000) %}{% endfor %}", "steps", "line 1");
  expect_error("{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}",
               "steps", "line 1");
  ChatTemplateOptions opt;
  opt.max_steps = 100;
  Error e = error_of("{% for i in range(50) %}{{ i }}{% endfor %}", opt);
  EXPECT_NE(e.message().find("more than 100 steps"), std::string::npos) << e.message();
}

TEST(ChatErrors, SizeLimit) {
  ChatTemplateOptions opt;
  opt.max_output_bytes = 1000;
  Error e = error_of("{% for i in range(100) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", opt);
  EXPECT_NE(e.message().find("output exceeds the limit of 1000 bytes"), std::string::npos)
      << e.message();
  // Strings that double each iteration stop at the limit instead of exhausting memory.
  Error d = error_of(
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
      "{% endfor %}");
  EXPECT_NE(d.message().find("exceeds the limit"), std::string::npos) << d.message();
  Error m = error_of("{{ 'x' * 100000000000 }}");
  EXPECT_NE(m.message().find("exceeds the limit"), std::string::npos) << m.message();
  Error l = error_of("{{ [1] * 100000000000 }}");
  EXPECT_NE(l.message().find("steps"), std::string::npos) << l.message();
}

TEST(ChatErrors, NoCrashOnTruncatedPrefixes) {
  // Every prefix of a real-looking template parses or fails cleanly.
  const std::string src =
      "{%- set ns = namespace(x=[]) -%}{# c #}\n{%- for m in messages[::-1] if m.role != 'x' %}"
      "{{- '<|' ~ m['role'] | upper ~ '|>' + m.content.strip('\\n') -}}{% else %}{{ 1 if a else "
      "{'k': [1, 2.5, none]} }}{% endfor %}{% macro q(a, b=2) %}{{ a is defined and b is not "
      "none }}{% endmacro %}{{ q(1, b=3) | tojson(indent=2) }}";
  std::vector<ChatMessage> msgs = {{"user", "hi"}, {"assistant", "yo"}};
  size_t parsed = 0;
  for (size_t n = 0; n <= src.size(); ++n) {
    auto t = ChatTemplate::parse(src.substr(0, n));
    if (!t.ok()) {
      EXPECT_EQ(t.error().code(), ErrorCode::template_error);
      EXPECT_NE(t.error().message().find("line "), std::string::npos);
      continue;
    }
    ++parsed;
    auto r = t->render(msgs, {});
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::template_error);
    }
  }
  EXPECT_GT(parsed, 3u);
  auto full = ChatTemplate::parse(src);
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  auto r = full->render(msgs, {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "<|ASSISTANT|>yo<|USER|>hi\"true\"");
}

}  // namespace
}  // namespace nibble
