#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer, ASan+UBSan) and runs EVERY fuzzer it finds
# (build/fuzz/fuzz/bin/fuzz_*) for N seconds each. Fails on any crash, leak, timeout or OOM;
# prints the executions run per target.
# Usage: scripts/fuzz.sh [--seconds N] [--only NAME]    (default 60 s per fuzzer)
# Per fuzzer NAME: the working corpus is build/fuzz/corpus/NAME (kept between runs); seeds
# come from build/fuzz/bin/NAME_seeds (run first, if built) and fuzz/corpus/NAME (if present);
# build/fuzz/fuzz/bin/NAME.dict is passed as -dict. Crash inputs land in build/fuzz/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
shared="${NIBBLE_SHARED_DIR:-$(cd .. && pwd)/shared}"
jobs="${NIBBLE_JOBS:-$(nproc)}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"

root=build/fuzz
bin="$root/fuzz/bin"
mkdir -p "$root/artifacts" "$root/logs"
shopt -s nullglob
ran=0
failed=()
for exe in "$bin"/fuzz_*; do
  name="$(basename "$exe")"
  [[ -x "$exe" && "$name" != *_seeds && "$name" != *.dict ]] || continue
  [[ -z "$only" || "$name" == "$only" ]] || continue
  corpus="$root/corpus/$name"
  seeds="$root/seeds/$name"
  mkdir -p "$corpus" "$seeds"
  if [[ -x "${exe}_seeds" ]]; then "${exe}_seeds" "$seeds" "$shared" >/dev/null 2>&1 || true; fi
  dirs=("$corpus" "$seeds")
  [[ -d "fuzz/corpus/$name" ]] && dirs+=("fuzz/corpus/$name")
  extra=()
  [[ -f "$bin/$name.dict" ]] && extra+=("-dict=$bin/$name.dict")
  log="$root/logs/$name.log"
  set +e
  "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$root/artifacts/$name-" "${extra[@]}" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)"
  ran=$((ran + 1))
  if [[ $rc -ne 0 ]]; then
    failed+=("$name")
    echo "FAIL $name (exit $rc, ${execs:-?} executions); log $log:" >&2
    tail -40 "$log" >&2
  else
    echo "$name: ${execs:-?} executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) files, no crash"
  fi
done
if [[ $ran -eq 0 ]]; then
  echo "fuzz.sh: no fuzzers found in $bin" >&2
  exit 1
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: ${#failed[@]} fuzzer(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: $ran fuzzer(s), no crashes"
