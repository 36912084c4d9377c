#!/bin/sh
# Installs everything Roster needs to build, serve and test on a fresh machine, from
# package registries only (crates.io, npm, PyPI; Debian's for Chromium and the benchmark
# tools).
# Idempotent: what is already installed at the right version is skipped.
#
#   sh scripts/setup.sh          toolchain for building, serving and testing
#   sh scripts/setup.sh --bench  also wrk (load generator) for bench/
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

WORKER_BUILD_VERSION=0.8.7
SCHEMATHESIS_VERSION=4.32.5
SCIM2_TESTER_VERSION=0.5.2

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION"
  cargo install worker-build --version "$WORKER_BUILD_VERSION"
fi

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# npm packages: wrangler (dev server, migrations, deploy) and esbuild (for worker-build).
stamp=node_modules/.package-lock.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# Schemathesis (tests/schemathesis.rs) in a project-local virtualenv.
if [ "$(.venv/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# scim2-tester (tests/scim2_tester.rs), an independent check of the SCIM service, beside it.
if [ "$(.venv/bin/python -c 'import httpx2, importlib.metadata as m; print(m.version("scim2-tester"))' 2>/dev/null)" != "$SCIM2_TESTER_VERSION" ]; then
  say "installing scim2-tester $SCIM2_TESTER_VERSION into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "scim2-tester[httpx2]==$SCIM2_TESTER_VERSION"
fi

# Chromium and its WebDriver, from Debian's packages, for the console's browser tests
# (tests/console_browser.rs).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium chromium-driver
fi

if [ "${1:-}" = "--bench" ] && ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk
fi
