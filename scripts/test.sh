#!/bin/sh
# Sets up the machine (scripts/setup.sh) and runs every check and test: formatting, clippy
# for the native and the wasm32 build, unit and property tests, and the black-box HTTP
# tests against the real Worker under `wrangler dev` (each test binary starts its own),
# Schemathesis among them (tests/schemathesis.rs), and scim2-tester against the SCIM service
# (tests/scim2_tester.rs).
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WRANGLER_SEND_METRICS=false

sh scripts/setup.sh

echo "== format and lints"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings

echo "== build the Worker"
sh scripts/build.sh

echo "== tests"
# The black-box tests wait on the network, not the CPU: run more of them at once.
RUST_TEST_THREADS=${RUST_TEST_THREADS:-8} cargo test --quiet
