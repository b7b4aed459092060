#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing packages, builds, runs the default test
# suite (everything but the `slow` label), the arm64 kernel tests under QEMU, and a short
# fuzzing run. Usage: scripts/test.sh [--quick]   (--quick: host tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh
jobs=$(nproc)
export CI="${CI:-}"

echo "== host build + tests (preset dev)"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs"

[[ "${1:-}" == "--quick" ]] && exit 0

if [[ -x scripts/test-aarch64.sh ]]; then
  echo "== arm64 kernels under QEMU"
  ./scripts/test-aarch64.sh
fi

if [[ -x scripts/fuzz.sh ]]; then
  echo "== fuzzing (short run)"
  ./scripts/fuzz.sh --seconds "${NIBBLE_FUZZ_SECONDS:-20}"
fi
echo "== all tests passed"
