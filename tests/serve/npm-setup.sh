#!/bin/sh
# Test set-up of the `nibble serve` client tests (ctest fixture serve_npm): installs the pinned
# openai npm client (client/package.json + package-lock.json) from the npm registry into
# BUILD_DIR, next to copies of the test scripts, so node resolves it from there. Skips the
# install when BUILD_DIR already holds exactly the locked packages. Nothing is committed.
# Usage: npm-setup.sh SOURCE_DIR/tests/serve/client BUILD_DIR
set -eu
src="$1"
dst="$2"
command -v node >/dev/null 2>&1 || { echo "npm-setup: node not found (install nodejs)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm-setup: npm not found (install npm)" >&2; exit 1; }
mkdir -p "$dst"
cp "$src"/*.mjs "$src/package.json" "$dst/"
if [ -f "$dst/node_modules/.nibble-lock" ] && cmp -s "$src/package-lock.json" "$dst/node_modules/.nibble-lock"; then
  echo "npm-setup: openai client already installed in $dst"
  exit 0
fi
cp "$src/package-lock.json" "$dst/"
cd "$dst"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error
cp package-lock.json node_modules/.nibble-lock
echo "npm-setup: installed $(node -p "require('./node_modules/openai/package.json').version") into $dst"
