#!/usr/bin/env bash
# arm64 kernels under QEMU: cross-builds the `aarch64` preset (build/aarch64: kernels + kernel
# tests, GoogleTest from /usr/src/googletest) and runs the kernel tests under qemu-aarch64 for
# three emulated CPU models, one per arm64 ISA level:
#   max         dotprod + i8mm   -> every variant runs, dispatch picks i8mm
#   cortex-a76  dotprod only     -> i8mm variants skipped ("CPU lacks i8mm"), dispatch: dotprod
#   cortex-a53  neither          -> dotprod and i8mm skipped, dispatch: neon
# Fails on any test failure, on a detection that disagrees with the model, or when the
# expected skip messages are missing. Usage: scripts/test-aarch64.sh [extra gtest args]
# Env: NIBBLE_SKIP_SETUP=1 skips scripts/setup-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
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
echo "== aarch64: build ${build_s} s, total $((SECONDS - start)) s"
if ((fail)); then
  echo "== aarch64 kernel tests FAILED"
  exit 1
fi
echo "== aarch64 kernel tests passed under max, cortex-a76, cortex-a53"
