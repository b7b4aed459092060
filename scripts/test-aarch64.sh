#!/usr/bin/env bash
# arm64 under QEMU: cross-builds the `aarch64` preset (build/aarch64: the whole engine, the
# programs and the tests; GoogleTest from /usr/src/googletest) and runs
# 1. the kernel tests under qemu-aarch64 for three emulated CPU models, one per ISA level:
#      max         dotprod + i8mm   -> every variant runs, dispatch picks i8mm
#      cortex-a76  dotprod only     -> i8mm variants skipped ("CPU lacks i8mm"), dispatch: dotprod
#      cortex-a53  neither          -> dotprod and i8mm skipped, dispatch: neon
#    failing on any test failure, a detection that disagrees with the model, or missing skips;
# 2. the engine: goldens, tokenizer conformance, API session and C API tests, the CLI story,
#    chunked-prefill/thread consistency under QEMU_CPU=max, the consistency tests under
#    cortex-a76 (dotprod path), the goldens, consistency and the story under cortex-a53 (neon);
#    with --full every test of the suite (but `slow`) under both;
# 3. `nibble generate` on stories260K under both CPUs, whose story must be byte-identical to
#    the host build's (build/dev/bin/nibble, when built).
# Usage: scripts/test-aarch64.sh [--full] [extra gtest args for the kernel tests]
# Env: NIBBLE_SKIP_SETUP=1 skips scripts/setup-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
if [[ "${1:-}" == "--full" ]]; then
  full=1
  shift
fi
[[ "${NIBBLE_SKIP_SETUP:-}" == 1 ]] || ./scripts/setup-deps.sh
jobs=$(nproc)
start=$SECONDS

echo "== aarch64 cross build (preset aarch64, build/aarch64)"
cmake --preset aarch64 >/dev/null
cmake --build --preset aarch64 -j "$jobs"
bin=build/aarch64/tests/kernels/kernels_tests
sysroot=/usr/aarch64-linux-gnu
build_s=$((SECONDS - start))

log_dir=build/aarch64/qemu-logs
mkdir -p "$log_dir"
fail=0
# model  expected ISA  ISAs whose variants must be skipped
models=("max i8mm -" "cortex-a76 dotprod i8mm" "cortex-a53 neon dotprod,i8mm")
for m in "${models[@]}"; do
  read -r cpu isa lacking <<<"$m"
  log="$log_dir/$cpu.log"
  t0=$SECONDS
  # NIBBLE_ISA unset: the dispatch test checks the uncapped choice.
  if env -u NIBBLE_ISA QEMU_CPU="$cpu" NIBBLE_EXPECT_ISA="$isa" \
      qemu-aarch64 -L "$sysroot" "$bin" "$@" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    fail=1
  fi
  detected=$(grep -m1 '^detected CPU features' "$log" || echo "detected CPU features: ?")
  summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?[,.]' "$log" | tr '\n' ' ')
  echo "-- QEMU_CPU=$cpu (expect $isa): $status in $((SECONDS - t0)) s; $detected; $summary"
  # Variants of the ISAs the model lacks must be skipped with a message naming the ISA, and
  # no other ISA may be reported missing.
  for want in ${lacking//,/ }; do
    [[ "$want" == - ]] && continue
    if ! grep -q "CPU lacks $want" "$log"; then
      echo "   missing skip message 'CPU lacks $want'"
      fail=1
    fi
  done
  for other in neon dotprod i8mm; do
    [[ ",$lacking," == *",$other,"* ]] && continue
    if grep -q "CPU lacks $other\$" "$log"; then
      echo "   unexpected skip: 'CPU lacks $other'"
      fail=1
    fi
  done
  if [[ $status != ok ]]; then
    grep -E '^\[  FAILED  \]|Failure|error:' "$log" | head -40 || true
    echo "   full log: $log"
  fi
done
# The NIBBLE_ISA cap on a CPU that has everything: the dispatch tests check that every table
# stays at or below the cap.
for cap in neon dotprod; do
  log="$log_dir/max-cap-$cap.log"
  if QEMU_CPU=max NIBBLE_ISA="$cap" qemu-aarch64 -L "$sysroot" "$bin" \
      --gtest_filter='Dispatch.*:CpuFeatures.*' >"$log" 2>&1; then
    echo "-- QEMU_CPU=max NIBBLE_ISA=$cap: dispatch tests ok"
  else
    echo "-- QEMU_CPU=max NIBBLE_ISA=$cap: dispatch tests FAILED (log: $log)"
    fail=1
  fi
done

# 2. The engine's tests, through ctest (the toolchain's emulator runs each test binary).
# Models/Consistency (chunked prefill == decode, thread counts agree) under each ISA level:
# the i8mm tiles, the dotprod and the neon GEMV must give a (row, token) the same result.
engine_max='Golden|Vocab/Conformance|GoldenPrompts|Session\.|CApi\.|GenerateCli|TokenApi|SessionState|Misuse|Consistency'
engine_a76='Consistency'
engine_a53='Golden|Session\.GreedyCompletion|GenerateCli|CApi\.generate|Consistency'
for m in "max $engine_max" "cortex-a76 $engine_a76" "cortex-a53 $engine_a53"; do
  read -r cpu filter <<<"$m"
  log="$log_dir/engine-$cpu.log"
  t0=$SECONDS
  args=(-j "$jobs" -LE slow --output-on-failure)
  # --full: every test, with a longer per-test limit (emulated long-context tests take minutes).
  ((full)) && args+=(--timeout 1800) || args+=(-R "$filter")
  if (cd build/aarch64 && env -u NIBBLE_ISA QEMU_CPU="$cpu" ctest "${args[@]}") >"$log" 2>&1; then
    echo "-- engine tests, QEMU_CPU=$cpu: $(grep -E 'tests passed' "$log") in $((SECONDS - t0)) s"
  else
    echo "-- engine tests, QEMU_CPU=$cpu: FAILED (log: $log)"
    grep -E '^\s+[0-9]+ - ' "$log" | head -20 || true
    fail=1
  fi
done

# 3. The same story as on x86-64.
source scripts/story-check.sh
for cpu in max cortex-a53; do
  story=$(QEMU_CPU=$cpu qemu-aarch64 -L "$sysroot" build/aarch64/bin/nibble "${story_gen[@]}" \
          2>/dev/null) || true
  check_story "nibble generate, QEMU_CPU=$cpu" "$story" || fail=1
done

echo "== aarch64: build ${build_s} s, total $((SECONDS - start)) s"
if ((fail)); then
  echo "== aarch64 tests FAILED"
  exit 1
fi
echo "== aarch64 tests passed (kernels and engine under max, cortex-a76, cortex-a53)"
