#!/usr/bin/env bash
# Kernel benchmark: runs kernels_bench (benchmarks/kernels_bench.cpp) with repetitions, writes
# Google Benchmark JSON, and prints a markdown table per format and ISA: median single-thread
# GEMV weight GB/s and fraction of the measured read bandwidth. Only bash + awk (mawk is
# enough): no python needed.
#
# Usage: scripts/bench-kernels.sh [options] [-- extra kernels_bench flags]
#   -b DIR     build dir holding benchmarks/kernels_bench (default: build/bench, configured
#              and built as a kernels-only RelWithDebInfo build when missing)
#   -r N       repetitions (default 5)     -t SEC   min time per repetition (default 0.3)
#   -f REGEX   benchmark filter (default: the probe and single-thread GEMV,
#              'read_bw/thr1/|/tok1/thr1/')
#   -o FILE    JSON output (default build/bench-kernels.json)
#   -a         print every run's median instead (any tokens/threads: GB/s, bw_frac, tok/s)
#   -d         also print a per-shape table (CPU-time GB/s of each variant at each shape)
#   -p FILES   only print the table from existing JSON file(s), comma-separated (no run);
#              several files = rounds: per shape the median over rounds, then over shapes
#
# Table: one row per variant. "median" columns = median over the shapes the format runs at
# (every shape is out of cache: the binary rotates over copies > 2x LLC) of the per-shape
# medians over repetitions; the "@2048x8192" column is the Llama-3.2-1B FFN-up shape
# (k = 2048, rows = 8192), which every format runs at. bw_frac divides by the start-up read
# probe of the same run and thread count. "CPU time" columns: timed by the benchmark thread's
# CPU time against a probe timed the same way, which leaves out the time a shared machine
# descheduled the process (not other processes' memory traffic); wall-time figures well
# below them mean the run was disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/bench
reps=5
min_time=0.3
filter='read_bw/thr1/|/tok1/thr1/'
out=build/bench-kernels.json
print_only=""
detail=0
flat=0
while getopts "b:r:t:f:o:p:adh" opt; do
  case $opt in
    b) build=$OPTARG ;;
    r) reps=$OPTARG ;;
    t) min_time=$OPTARG ;;
    f) filter=$OPTARG ;;
    o) out=$OPTARG ;;
    p) print_only=$OPTARG ;;
    d) detail=1 ;;
    a) flat=1 ;;
    *) sed -n '2,26p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ "${1:-}" == "--" ]] && shift

if [[ -z "$print_only" ]]; then
  bin=$build/benchmarks/kernels_bench
  if [[ ! -x $bin ]]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNIBBLE_KERNELS_ONLY=ON \
      >/dev/null
  fi
  cmake --build "$build" --target kernels_bench >/dev/null
  mkdir -p "$(dirname "$out")"
  echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?') load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$bin" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_min_time="$min_time" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out" --benchmark_out_format=json "$@" >&2
  print_only=$out
fi

# JSON -> one line per run: run_name real_time cpu_time wbytes bw_frac (the median aggregate,
# or the single run when there were no repetitions). Several files (rounds run at different
# times): per shape the median over rounds, then the median over shapes.
IFS=',' read -r -a files <<<"$print_only"
for f in "${files[@]}"; do
  awk '
    function val(line) { sub(/^[^:]*: */, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
    /"read_bw_GBps_thr1"/ { print "#probe", val($0) }
    /"read_bw_cpu_GBps_thr1"/ { print "#probecpu", val($0) }
    /"load_avg"/ { l = $0; sub(/^[^[]*\[/, "", l); sub(/\].*/, "", l); gsub(/,/, " ", l); print "#load", l }
    /^    {/ { run = ""; agg = ""; type = ""; rt = ""; ct = ""; wb = ""; fr = ""; wc = 0; fc = 0; ts = 0 }
    /"run_name"/ { run = val($0) }
    /"run_type"/ { type = val($0) }
    /"aggregate_name"/ { agg = val($0) }
    /"real_time"/ { rt = val($0) }
    /"cpu_time"/ { ct = val($0) }
    /"wbytes"/ { wb = val($0) }
    /"bw_frac"/ { fr = val($0) }
    /"wbytes_cpu"/ { wc = val($0) }
    /"bw_frac_cpu"/ { fc = val($0) }
    /"tok\/s"/ { ts = val($0) }
    /^    }/ { if (run != "" && (agg == "median" || type == "iteration")) print run, rt, ct, wb, fr, wc, fc, ts }
  ' "$f"
done | awk -v nfiles="${#files[@]}" -v detail="$detail" -v flat="$flat" '
  function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return ""
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  /^#probecpu/ { probes_cpu = probes_cpu " " $2; next }
  /^#probe/ { probes = probes " " $2; next }
  /^#load/ { loads = loads (loads == "" ? "" : "; ") sprintf("%.2f", $2); next }
  flat && $1 ~ /^(matmul|read_bw)\// {
    if (!hdr++) { print "| benchmark | GB/s | bw_frac | tok/s |"; print "|---|---:|---:|---:|" }
    name = $1; sub(/\/real_time$/, "", name); sub(/^matmul\/[^\/]*\/[^\/]*\//, "", name)
    printf "| %s | %.2f | %.3f | %s |\n", name, $4 / 1e9, $5, $1 ~ /^read_bw/ ? "-" : sprintf("%.0f", $8)
    next
  }
  flat { next }
  $1 ~ /^read_bw\/thr1\// { probe_runs = probe_runs " " $4 / 1e9; probe_runs_cpu = probe_runs_cpu " " $6 / 1e9; next }
  $1 ~ /^matmul\// {
    split($1, p, "/")  # matmul fmt isa variant kK_rR tokT thrN real_time
    if (p[6] != "tok1" || p[7] != "thr1") next
    key = p[2] SUBSEP p[3] SUBSEP p[4]
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    ks = key SUBSEP p[5]
    if (!(ks in sseen)) { sseen[ks] = 1; shape_list[key] = shape_list[key] " " p[5]; shapes[key]++ }
    if (!(p[5] in allseen)) { allseen[p[5]] = 1; all_shapes[++nall] = p[5] }
    gbs[ks] = gbs[ks] " " $4 / 1e9; frac[ks] = frac[ks] " " $5
    gbc[ks] = gbc[ks] " " $6 / 1e9; fracc[ks] = fracc[ks] " " $7
  }
  END {
    if (flat) exit
    printf "Read bandwidth, 1 thread (start-up probe, median of passes"
    if (nfiles > 1) printf "; median over %d rounds", nfiles
    printf "): %.2f GB/s wall time, %.2f GB/s CPU time", median(probes), median(probes_cpu)
    if (probe_runs != "")
      printf "; read_bw/thr1 benchmark: %.2f / %.2f GB/s", median(probe_runs), median(probe_runs_cpu)
    printf ". 1-min load average at start: %s\n\n", loads
    print "| format | ISA | variant | shapes | GB/s | bw_frac | GB/s (CPU time) | bw_frac (CPU time) | bw_frac (CPU time) @2048x8192 |"
    print "|---|---|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, q, SUBSEP)
      ns = split(shape_list[k], sl, " "); g = ""; f = ""; gc = ""; fc = ""
      for (j = 1; j <= ns; j++) {
        ks = k SUBSEP sl[j]
        g = g " " median(gbs[ks]); f = f " " median(frac[ks])
        gc = gc " " median(gbc[ks]); fc = fc " " median(fracc[ks])
      }
      ks = k SUBSEP "k2048_r8192"
      printf "| %s | %s | %s | %d | %.2f | %.3f | %.2f | %.3f | %s |\n", q[1], q[2], q[3], ns, \
        median(g), median(f), median(gc), median(fc), \
        (ks in sseen) ? sprintf("%.3f", median(fracc[ks])) : "-"
    }
    if (!detail) exit
    printf "\nGB/s (CPU time) per shape (k x rows):\n\n| variant |"
    for (j = 1; j <= nall; j++) { s = all_shapes[j]; sub(/^k/, "", s); sub(/_r/, "x", s); printf " %s |", s }
    printf "\n|---|"
    for (j = 1; j <= nall; j++) printf "---:|"
    printf "\n"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, q, SUBSEP); printf "| %s |", q[3]
      for (j = 1; j <= nall; j++) {
        ks = k SUBSEP all_shapes[j]
        printf " %s |", (ks in sseen) ? sprintf("%.2f", median(gbc[ks])) : "-"
      }
      printf "\n"
    }
  }
'
