#!/usr/bin/env bash
# Instructions executed by each arm64 matmul variant for one call (16 rows x K 4096; 1, 4 and
# 16 tokens), counted under QEMU (-singlestep -d exec, filtered to the variant's ISA object).
# A proxy for the work per weight, NOT a speed measurement: it ignores latency, throughput,
# memory and the micro-architecture entirely. Needs build/aarch64 (scripts/test-aarch64.sh).
# Usage: scripts/arm-insn-count.sh [name filter regex]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build --preset aarch64 --target arm_insn_probe >/dev/null
bin=build/aarch64/tests/kernels/arm_insn_probe
run() { QEMU_CPU=max qemu-aarch64 -L /usr/aarch64-linux-gnu "$@"; }
declare -A range
for isa in neon dotprod i8mm; do  # address range of the ISA's object (all its code is there)
  min="" max=0
  while read -r a s; do
    st=$((16#$a)) en=$((16#$a + 16#$s))
    [[ -z $min || $st -lt $min ]] && min=$st
    ((en > max)) && max=$en
  done < <(aarch64-linux-gnu-nm -S -C "$bin" | grep " nibble::kernels::$isa::" | awk 'NF>=4{print $1, $2}')
  range[$isa]=$(printf "0x%x..0x%x" "$min" $((max - 1)))
done
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
echo "instructions per (weight block x token), 32-element units for F16/F32; QEMU_CPU=max"
printf "%-28s %10s %10s %10s\n" variant "t=1" "t=4" "t=16"
run "$bin" --list | while read -r name isa bs; do
  [[ -n ${range[$isa]:-} ]] || continue
  [[ -z "${1:-}" || $name =~ $1 ]] || continue
  out=()
  for nt in 1 4 16; do
    run -singlestep -d exec,nochain -dfilter "${range[$isa]}" -D "$trace" "$bin" "$name" "$nt" \
      >/dev/null
    n=$(grep -c '^Trace' "$trace")
    bs_eff=$bs
    ((bs_eff == 1)) && bs_eff=32  # float formats: per 32 elements
    out+=("$(awk -v n="$n" -v t="$nt" -v b="$bs_eff" 'BEGIN{printf "%.1f", n / (16 * t * 4096 / b)}')")
  done
  printf "%-28s %10s %10s %10s\n" "$name" "${out[0]}" "${out[1]}" "${out[2]}"
done
