#!/usr/bin/env python3
"""Lists functions and variables that nibble defines but nothing uses.

Usage: scripts/unused-symbols.py [BUILD_DIR]   (default build/dev; build everything first)

A global symbol defined by the library or the programs (targets nibble_*) is used when a
relocation in some object of the build (library, programs, tests, benches) refers to it:
relocations are what a linker map is made of, and they see calls inside one file and
function-pointer tables too. A symbol no relocation names may still be called where the
compiler inlined every call; those are then searched by name in the sources, and reported
only when the name occurs nowhere but in its declaration and definition. Weak symbols
(inline functions, template instances) are skipped: every user carries its own copy. The
public API (nibble_* C functions, src/api/) is listed apart: its users are applications.
Exit status 1 when an internal symbol is unused.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Constructor / destructor variants (complete, base, deleting) are one function to a reader.
VARIANT = re.compile(r"(C[123]|D[012])(?=E|I|B)")


def key(sym):
    return VARIANT.sub("C", sym)


def objects(build):
    """The object files of the build's current targets (stale ones are left out)."""
    out = subprocess.run(["ninja", "-C", build, "-t", "targets", "all"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        path = line.split(":")[0]
        if path.endswith((".o", ".obj")) and os.path.exists(os.path.join(build, path)):
            yield os.path.join(build, path)


def target_of(obj):
    m = re.search(r"CMakeFiles/([^/]+)\.dir/", obj)
    return m.group(1) if m else "?"


def is_product(target):
    return target.startswith("nibble_") and not target.endswith(("_test", "_tests"))


def identifier(name):
    base = re.sub(r"\[abi:[^\]]*\]", "", name.split("(")[0])
    return base.split("::")[-1].lstrip("~")


def mentions(ident):
    out = subprocess.run(["grep", "-rwoF", "--include=*.h", "--include=*.cpp", "--include=*.inc",
                          "--include=*.hpp", ident, "src", "kernels", "tools", "tests", "include",
                          "examples"], cwd=ROOT, capture_output=True, text=True).stdout
    return len(out.splitlines())


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/dev")
    objs = sorted(set(objects(build)))
    defined = {}  # key -> (mangled, object)
    for o in objs:
        if not is_product(target_of(o)):
            continue
        out = subprocess.run(["nm", "--defined-only", "-g", o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRG":
                defined.setdefault(key(parts[2]), (parts[2], o))
    used_by = defaultdict(set)
    for o in objs:
        kind = "product" if is_product(target_of(o)) else "test"
        out = subprocess.run(["readelf", "-rW", o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 5 and "R_" in parts[2]:
                k = key(parts[4])
                if k in defined:
                    used_by[k].add(kind)
    mangled = [m for m, _ in defined.values()]
    out = subprocess.run(["c++filt"], input="\n".join(mangled), capture_output=True, text=True).stdout
    demangled = dict(zip(mangled, out.splitlines()))
    unused, unused_api = [], []
    for k, (sym, obj) in defined.items():
        name = demangled.get(sym, sym)
        if sym == "main" or used_by.get(k):
            continue
        if sym.startswith("nibble_") or "/src/api/" in obj:
            unused_api.append(name)
            continue
        ident = identifier(name)
        if mentions(ident) > 2:  # called where inlined, or a name shared with others
            continue
        unused.append(f"{name}    ({os.path.relpath(obj, build)})")
    print(f"{len(defined)} global symbols of the library and programs; {len(objs)} objects read")
    if unused_api:
        print("public API not used inside the tree (its users are applications):")
        for n in sorted(unused_api):
            print("  " + n)
    if unused:
        print("UNUSED internal symbols:")
        for n in sorted(unused):
            print("  " + n)
        return 1
    print("no unused internal symbol")
    return 0


if __name__ == "__main__":
    sys.exit(main())
