#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages nibble needs, only those missing. Runs apt-get as root
# (directly, or through sudo when not root).
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config libgtest-dev googletest libbenchmark-dev libfmt-dev
      libxsimd-dev clang libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user python3
      g++-mingw-w64-x86-64-posix wine64 nlohmann-json3-dev libcpp-httplib-dev libcli11-dev)
[[ "${1:-}" == "--minimal" ]] && pkgs=(cmake ninja-build g++ libgtest-dev libbenchmark-dev
      libfmt-dev libxsimd-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "nibble: installing missing packages: ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || true
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
