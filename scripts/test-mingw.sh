#!/usr/bin/env bash
# Windows x86-64 under wine: cross-builds the `mingw` preset (build/mingw: MinGW-w64 GCC, POSIX
# threads, static runtime) and runs
# 1. every GoogleTest program under wine64, one process each (a wine start costs ~0.4 s, so
#    not one per test case), but the slow ones and those that start the `nibble` program
#    through a POSIX shell (build/mingw/test_programs.txt, written by CMake);
# 2. the C API tests and the header examples (ctest, through the toolchain's emulator);
# 3. `nibble.exe generate` on stories260K, whose story must be byte-identical to the host
#    build's (build/dev/bin/nibble, when built).
# Usage: scripts/test-mingw.sh     Env: NIBBLE_SKIP_SETUP=1 skips scripts/setup-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${NIBBLE_SKIP_SETUP:-}" == 1 ]] || ./scripts/setup-deps.sh
jobs=$(nproc)
start=$SECONDS
wine=/usr/lib/wine/wine64
export WINEDEBUG=-all
export WINEPREFIX="$PWD/build/mingw/wineprefix"

echo "== Windows cross build (preset mingw, build/mingw)"
cmake --preset mingw >/dev/null
cmake --build --preset mingw -j "$jobs"
build_s=$((SECONDS - start))
mkdir -p "$WINEPREFIX"
"$wine" cmd /c exit >/dev/null 2>&1 || true  # first start creates the prefix (~10 s)

log_dir=build/mingw/wine-logs
mkdir -p "$log_dir"
fail=0
# The GoogleTest programs that need no POSIX shell (CMake writes the list).
mapfile -t exes < build/mingw/test_programs.txt
for exe in "${exes[@]}"; do
  name=$(basename "$exe" .exe)
  log="$log_dir/$name.log"
  t0=$SECONDS
  if "$wine" "$exe" --gtest_brief=1 >"$log" 2>&1; then
    echo "-- $name: $(grep -E '^\[  PASSED  \]' "$log" | tail -1) in $((SECONDS - t0)) s"
  else
    echo "-- $name: FAILED (log: $log)"
    grep -E '^\[  FAILED  \]|Failure' "$log" | head -20 || true
    fail=1
  fi
done

log="$log_dir/ctest.log"
if (cd build/mingw && ctest -j "$jobs" -R 'CApi\.|HeaderExample' --output-on-failure) >"$log" 2>&1; then
  echo "-- C API tests and header examples: $(grep -E 'tests passed' "$log")"
else
  echo "-- C API tests and header examples: FAILED (log: $log)"
  fail=1
fi

source scripts/story-check.sh
story=$("$wine" build/mingw/bin/nibble.exe "${story_gen[@]}" 2>/dev/null | tr -d '\r') || true
check_story "nibble.exe generate" "$story" || fail=1

echo "== Windows: build ${build_s} s, total $((SECONDS - start)) s"
if ((fail)); then
  echo "== Windows tests FAILED"
  exit 1
fi
echo "== Windows tests passed under wine"
