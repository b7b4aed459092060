#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing packages, builds, runs the default test
# suite (everything but the `slow` label), the arm64 build's tests under QEMU, the Windows
# build's tests under wine, and a short fuzzing run.
# Usage: scripts/test.sh [--quick]   (--quick: host tests only)
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

echo "== arm64 under QEMU"
NIBBLE_SKIP_SETUP=1 ./scripts/test-aarch64.sh

echo "== Windows x86-64 under wine"
NIBBLE_SKIP_SETUP=1 ./scripts/test-mingw.sh

if [[ -x scripts/fuzz.sh ]]; then
  echo "== fuzzing (short run)"
  ./scripts/fuzz.sh --seconds "${NIBBLE_FUZZ_SECONDS:-20}"
fi
echo "== all tests passed"
