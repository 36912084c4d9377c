#!/bin/sh
# The benchmark, in one command: Roster's cost per request against the platform's floor.
#
# Sets up the machine (scripts/setup.sh --bench), builds the release Roster Worker and two
# baseline Workers the same way (bench/baselines: hello world, and exactly one D1 SELECT by
# primary key), runs the micro-benchmarks (benches/hot_paths.rs) while the CPUs are quiet,
# seeds Roster's local D1 (bench/seed.mjs), serves the three Workers with `wrangler dev` on
# fresh local state and free ports, drives each scenario with wrk (bench/drive.mjs,
# bench/load.lua), and writes bench/RESULTS.md (also printed). Servers are stopped on exit,
# whatever happens. Everything the run makes goes to bench/out (git-ignored).
#
# Tunable through the environment: BENCH_THREADS (2), BENCH_CONNECTIONS (16),
# BENCH_DURATION (10 s), BENCH_WARMUP (3 s).
set -eu
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CI=1

export BENCH_THREADS=${BENCH_THREADS:-2}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
export BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_WARMUP=${BENCH_WARMUP:-3}
# Invitations the accept scenario uses up, one per request: room for 2,000 accepts a second.
accept_pool=$((BENCH_DURATION * 2000))
warmup_pool=$((BENCH_WARMUP * 2000))

out=$root/bench/out
run=$out/run
wrangler=$root/node_modules/.bin/wrangler
target=${CARGO_TARGET_DIR:-$root/target}

say() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }

# Runs a command with its output kept in $run/build.log; on failure, the output stays in
# $run/last.log for `fail` to show.
logged() {
  "$@" >"$run/last.log" 2>&1 || return
  cat "$run/last.log" >>"$run/build.log"
}
fail() {
  cat "$run/last.log" >&2
  say "failed: $*"
  exit 1
}
quietly() { logged "$@" || fail "$@"; }

servers=""
stop_servers() {
  for pid in $servers; do kill -TERM "-$pid" 2>/dev/null || true; done
  for pid in $servers; do
    tries=0
    while kill -0 "-$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do
      sleep 0.2
      tries=$((tries + 1))
    done
    kill -KILL "-$pid" 2>/dev/null || true
  done
  servers=""
}
trap stop_servers EXIT
trap 'exit 130' INT TERM HUP

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port);
    s.close();
  });'
}

# serve NAME DIR PORT [wrangler dev options…]: `wrangler dev` for the wrangler.toml in DIR,
# in a session of its own so that stopping it stops workerd too.
serve() {
  serve_name=$1 serve_dir=$2 serve_port=$3
  shift 3
  (cd "$serve_dir" && exec setsid "$wrangler" dev --ip 127.0.0.1 --port "$serve_port" \
    --inspector-port "$(free_port)" --persist-to "$run/state/$serve_name" \
    --show-interactive-dev-session=false --log-level warn "$@" \
    </dev/null >"$run/$serve_name.log" 2>&1) &
  servers="$servers $!"
}

# wait_ready NAME URL: waits (up to two minutes) until URL answers 2xx.
wait_ready() {
  tries=0
  until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$2"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 240 ]; then
      cat "$run/$1.log" >&2
      say "$1 did not start"
      exit 1
    fi
    sleep 0.5
  done
}

started=$(date +%s)
sh scripts/setup.sh --bench
rm -rf "$run"
mkdir -p "$run/state"

say "building Roster and the baselines"
quietly sh scripts/build.sh
bindgen() { awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$1"; }
for baseline in hello d1; do
  dir=bench/baselines/$baseline
  # The installed wasm-bindgen-cli is the one Roster's Cargo.lock asks for.
  if [ "$(bindgen "$dir/Cargo.lock")" != "$(bindgen Cargo.lock)" ]; then
    say "$dir/Cargo.lock pins wasm-bindgen $(bindgen "$dir/Cargo.lock")," \
      "Cargo.lock $(bindgen Cargo.lock): make them agree"
    exit 1
  fi
  (
    cd "$dir"
    export CARGO_TARGET_DIR="$out/target" WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
    export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
    quietly cargo fetch --locked
    quietly worker-build --release --no-opt --out-dir "$out/baselines/$baseline"
  )
done

say "running the micro-benchmarks"
rm -rf "$target/criterion"
quietly cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 3

say "seeding local D1"
quietly node bench/seed.mjs "$run/data" "$accept_pool" "$warmup_pool"
seed_roster() {
  rm -rf "$run/state/roster"
  logged "$wrangler" d1 migrations apply DB --local --persist-to "$run/state/roster" &&
    logged "$wrangler" d1 execute DB --local --persist-to "$run/state/roster" \
      --file "$run/data/roster.sql"
}
# Local D1 now and then fails inside wrangler ("false == true"); fresh state then succeeds.
seed_roster || seed_roster || fail "seeding Roster's D1"
(cd bench/baselines/d1 && quietly "$wrangler" d1 execute DB --local \
  --persist-to "$run/state/d1" --file seed.sql)

say "starting the servers"
hello_port=$(free_port)
d1_port=$(free_port)
roster_port=$(free_port)
serve hello bench/baselines/hello "$hello_port"
serve d1 bench/baselines/d1 "$d1_port"
set --
while IFS= read -r var; do set -- "$@" --var "$var"; done <"$run/data/server.vars"
serve roster . "$roster_port" "$@"
export BENCH_HELLO_URL=http://127.0.0.1:$hello_port
export BENCH_D1_URL=http://127.0.0.1:$d1_port
export BENCH_ROSTER_URL=http://127.0.0.1:$roster_port
wait_ready hello "$BENCH_HELLO_URL/"
wait_ready d1 "$BENCH_D1_URL/items/item-0000"
wait_ready roster "$BENCH_ROSTER_URL/health"

say "driving the scenarios ($BENCH_DURATION s each after $BENCH_WARMUP s of warm-up)"
status=0
BENCH_RUN_DIR=$run/data BENCH_CRITERION_DIR=$target/criterion \
  BENCH_RESULTS=$root/bench/RESULTS.md node bench/drive.mjs || status=$?
stop_servers
say "done in $(($(date +%s) - started)) s; the servers' logs are in bench/out/run"
exit "$status"
