#!/bin/sh
# Builds the Worker (build/worker/shim.mjs + wasm) without downloading anything:
# wasm-bindgen and esbuild come from scripts/setup.sh, wasm-opt is not used.
# Skips the build when the sources have not changed since the last one.
set -eu
cd "$(dirname "$0")/.."

stamp=build/.inputs
inputs=$(cat build.rs Cargo.toml Cargo.lock openapi.json $(find src -type f | sort) | sha256sum | cut -d" " -f1)
if [ -f "$stamp" ] && [ -f build/worker/shim.mjs ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  exit 0
fi

WASM_BINDGEN_BIN=$(command -v wasm-bindgen) \
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild" \
  worker-build --release --no-opt
echo "$inputs" > "$stamp"
