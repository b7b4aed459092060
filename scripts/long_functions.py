#!/usr/bin/env python3
"""Lists C++ functions longer than a limit (default 120 lines), longest first.

Heuristic, no parser: a function starts at a line (indent <= 2, or a class member at 2-4)
that closes a parameter list and opens a brace, and ends at the brace that closes it (braces in
strings, chars and comments are skipped). Generated tables (*.inc, unicode tables) are not
scanned. Usage: scripts/long_functions.py [--limit N] [paths...] (default: src kernels tools
include tests benchmarks fuzz examples).
"""
import argparse
import os
import re
import sys

HEADER = re.compile(r'^( {0,4})(?!(if|for|while|switch|catch|do|else|return|namespace|struct|'
                    r'class|enum|union|extern)\b)[^;#/]*\)[^;{]*\{\s*(//.*)?$')


def strip(line, state):
    """Removes strings, chars and comments; state tracks /* */ across lines."""
    out, i = [], 0
    while i < len(line):
        if state[0]:
            j = line.find('*/', i)
            if j < 0:
                return ''.join(out)
            state[0], i = False, j + 2
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state[0], i = True, i + 2
            continue
        if line.startswith('R"', i):  # raw string: R"delim( ... )delim" on one line or many
            m = re.match(r'R"([^(]*)\(', line[i:])
            if m:
                end = line.find(')' + m.group(1) + '"', i)
                if end < 0:
                    state[1] = ')' + m.group(1) + '"'
                    return ''.join(out)
                i = end + len(m.group(1)) + 2
                continue
        if c in '"\'':
            j = i + 1
            while j < len(line) and line[j] != c:
                j += 2 if line[j] == '\\' else 1
            i = j + 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def scan(path, limit, found):
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().split('\n')
    state = [False, None]
    i = 0
    while i < len(lines):
        if state[1]:
            if state[1] in lines[i]:
                state[1] = None
            i += 1
            continue
        line = lines[i]
        if HEADER.match(line) and not state[0]:
            depth, j = 0, i
            while j < len(lines):
                s = strip(lines[j], state)
                depth += s.count('{') - s.count('}')
                if depth <= 0 and j > i or (depth == 0 and j == i and '}' in s):
                    break
                j += 1
            n = j - i + 1
            if n > limit:
                found.append((n, path, i + 1, line.strip()[:90]))
            i = j + 1
            continue
        strip(line, state)
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=120)
    ap.add_argument('paths', nargs='*',
                    default=['src', 'kernels', 'tools', 'include', 'tests', 'benchmarks', 'fuzz',
                             'examples'])
    a = ap.parse_args()
    found = []
    for root in a.paths:
        for d, _, files in os.walk(root):
            for name in files:
                if name.endswith(('.cpp', '.h', '.c')) and 'unicode_tables' not in name:
                    scan(os.path.join(d, name), a.limit, found)
    for n, path, line, head in sorted(found, reverse=True):
        print(f'{n:5d}  {path}:{line}  {head}')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
