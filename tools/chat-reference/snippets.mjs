// Small templates, one construct each, rendered by the reference for the unit tests
// (tests/chat/snippets_test.cpp). Each entry: [template, context]. Keep to constructs where
// nibble follows the reference (see docs/chat-templates.md for the known differences).
export const snippets = [
  // text, comments, whitespace control, trim_blocks / lstrip_blocks
  ["plain text", {}],
  ["a {# comment #} b", {}],
  ["a  {#- comment -#}  b", {}],
  ["a  {{- 'x' -}}  b", {}],
  ["a\n  {% if true %}\n  yes\n  {% endif %}\nb\n", {}],
  ["a {%- if true -%} b {%- endif -%} c", {}],
  ["line1\n{# comment #}\nline2", {}],
  ["  {{ 'kept indent' }}\n", {}],
  // literals and operators
  ["{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }}", {}],
  ["{{ 1.5 + 1 }} {{ 10 / 5 }} {{ -3 + 1 }} {{ - x }}", { x: 4 }],
  ["{{ 'a' ~ 1 ~ true ~ 2.5 }}|{{ 'a' + 'b' }}", {}],
  ["{{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 2 < 3 }} {{ 3 <= 3 }} {{ 4 >= 5 }}", {}],
  ["{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}", {}],
  ["{{ true and false }} {{ true or false }} {{ not true }} {{ not (1 == 2) }} {{ x or 'dflt' }}", {}],
  ["{{ 'yes' if x else 'no' }} {{ 'yes' if not x else 'no' }}", { x: 0 }],
  ["{{ [1, 'two', none, true, 2.5] }} {{ {'a': 1, 'b': [1, 2]} }}", {}],
  ["{{ 'single' \"double\" }} {{ 'esc\\'aped\\n\\t\\\\' }}", {}],
  // subscripts and slices
  ["{{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }}", { xs: [1, 2, 3, 4] }],
  ["{{ s[0] }} {{ s[1:3] }} {{ s[::-1] }} {{ s[-1] }}", { s: "héllo" }],
  ["{{ d.a }} {{ d['b'] }} {{ d.c.e }} {{ d.missing }}", { d: { a: 1, b: "two", c: { e: "deep" } } }],
  // if / elif / else
  ["{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", { x: 2 }],
  ["{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", { x: 9 }],
  ["{% if x %}{% if y %}both{% else %}x only{% endif %}{% endif %}", { x: true, y: false }],
  // for loops
  ["{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }}:{{ x }} {% endfor %}", { xs: ["a", "b", "c"] }],
  ["{% for x in xs %}{{ x }}{% else %}empty{% endfor %}", { xs: [] }],
  ["{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", { d: { a: 1, b: 2 } }],
  ["{% for k in d %}{{ k }},{% endfor %}", { d: { x: 1, y: 2 } }],
  ["{% for x in xs if x > 1 %}{{ x }}{{ loop.length }} {% endfor %}", { xs: [1, 2, 3] }],
  ["{% for x in xs %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}", { xs: [0, 1, 2, 3, 4] }],
  ["{% for i in range(3) %}{{ i }}{% endfor %} {% for i in range(1, 7, 2) %}{{ i }}{% endfor %} {% for i in range(3, 0, -1) %}{{ i }}{% endfor %}", {}],
  ["{% for row in rows %}{% for c in row %}{{ loop.index }}{{ c }}{% endfor %}|{% endfor %}", { rows: [["a", "b"], ["c"]] }],
  ["{% for x in xs %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }} {% endfor %}", { xs: [1, 2, 3] }],
  // set, namespace, block set, scoping
  ["{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{% endfor %}{{ x }}", {}],
  ["{% set ns = namespace(total=0, seen=false) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% set ns.seen = true %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}],
  ["{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}],
  ["{% set block %}inner {{ 1 + 1 }}{% endset %}[{{ block }}]", {}],
  // macros
  ["{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(name='Cy', punct='.') }}", {}],
  ["{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}],
  // filters
  ["{{ '  pad  ' | trim }}|{{ 'abc' | length }}|{{ [1, 2] | length }}|{{ {'a': 1} | length }}", {}],
  ["{{ 'Hello' | upper }} {{ 'Hello' | lower }} {{ 'hello big-world' | title }}", {}],
  ["{{ 'a-b-c' | replace('-', '+') }} {{ ['a', 'b'] | join(', ') }} {{ [1, 2] | join }}", {}],
  ["{{ x | default('dflt') }} {{ none | default('n') }} {{ '' | default('e', true) }} {{ 'v' | default('d') }}", {}],
  ["{{ xs | first }} {{ xs | last }} {{ d | items }}", { xs: [3, 4, 5], d: { k: "v" } }],
  ["{{ 42 | string }}{{ '7' | int + 1 }} {{ 3.9 | int }} {{ 'x' | int }}", {}],
  ["{{ v | tojson }}|{{ 'quote\"\\\\ \\n é' | tojson }}|{{ v | tojson(indent=2) }}", { v: { a: [1, "two", null, true, 2.5], b: {} } }],
  ["{{ 'line1\\nline2\\n\\nline4' | indent(2) }}|{{ 'a\\nb' | indent(4, true) }}", {}],
  ["{{ users | map(attribute='name') | join(',') }} ", { users: [{ name: "ann" }, { name: "bob" }] }],
  ["{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }} {{ msgs | rejectattr('role', 'equalto', 'user') | list | length }}", { msgs: [{ role: "user", c: "u1" }, { role: "bot", c: "b" }, { role: "user", c: "u2" }] }],
  ["{{ xs | selectattr('flag') | list | length }}", { xs: [{ flag: true }, { flag: false }, {}] }],
  ["{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [1, 2] | reverse | list }} {{ [1, 1, 2] | unique | list }}", {}],
  ["{{ 'x' | safe }} {{ -3 | abs }}", {}],
  // tests
  ["{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ n is none }} {{ x is not none }}", { x: 1, n: null }],
  ["{{ 's' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ {} is mapping }} {{ [] is mapping }}", {}],
  ["{{ [] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ 3 is odd }} {{ 4 is even }}", {}],
  ["{{ true is true }} {{ false is false }} {{ x is false }}", { x: 0 }],
  // string and dict methods
  ["[{{ '  s  '.strip() }}][{{ '  s  '.lstrip() }}][{{ '  s  '.rstrip() }}][{{ '\\n\\nq\\n'.lstrip('\\n') }}]", {}],
  ["{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith('lo') }} {{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }}", {}],
  ["{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'a-b'.replace('-', '_') }} {{ 'ab cd'.title() }}", {}],
  ["{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", { d: { a: 1, b: 2 } }],
  ["{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", { c: "<think>\nr\n</think>\n\nanswer" }],
  // messages-style access
  ["{% for m in messages %}{{ m['role'] }}:{{ m.content }};{% endfor %}", { messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }] }],
  ["{{ messages[0]['role'] == 'system' }} {{ messages | length - 1 }} {{ (messages | length) * 2 }}", { messages: [{ role: "system", content: "" }] }],
  // generation markers
  ["a {% generation %}b{% endgeneration %} c", {}],
];
