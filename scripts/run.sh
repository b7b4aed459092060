#!/usr/bin/env bash
# The run command (README): installs missing packages, builds a release, and runs nibble on a
# model: the given MODEL.gguf, else the stories260K fixture from ../shared.
# Usage: scripts/run.sh [MODEL.gguf] [extra arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-deps.sh --minimal
model="${1:-}"
[[ $# -gt 0 ]] && shift
if [[ -z "$model" ]]; then
  shared="${NIBBLE_SHARED_DIR:-../shared}"
  model="$shared/fixtures/stories260K-f32.gguf"
  if [[ ! -f "$model" ]]; then
    cat >&2 <<MSG
nibble: no model given and none found at $model.
Download a GGUF model, for example SmolLM2-135M-Instruct (Q8_0, ~145 MB):
  https://huggingface.co/bartowski/SmolLM2-135M-Instruct-GGUF
and run:  scripts/run.sh path/to/model.gguf
MSG
    exit 1
  fi
fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [[ -x build/release/bin/nibble-chat ]]; then
  exec build/release/bin/nibble-chat -m "$model" "$@"
fi
exec build/release/bin/nibble info "$model" "$@"
