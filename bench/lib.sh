# Shared by bench/run.sh and bench/growth.sh (sourced, not run): the paths, logging, building
# the release Roster Worker and the baseline Workers, serving Workers as `wrangler dev` does
# (bench/serve.mjs) on fresh local state and free ports, and stopping them on exit whatever
# happens.
#
# The sourcing script sets `run` (its working directory under bench/out) first; sourcing
# changes to the repository's root.
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CI=1

out=$root/bench/out
run=${run:-$out/run}
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

# serve NAME DIR PORT [NAME:value vars…]: the Worker of the wrangler.toml in DIR as `wrangler
# dev` serves it, without DevTools (bench/serve.mjs), in a session of its own so that
# stopping it stops workerd too; `$!` is then the session's id, by which the drivers also
# add up the server's CPU time.
serve() {
  serve_name=$1 serve_dir=$2 serve_port=$3
  shift 3
  (cd "$serve_dir" && exec setsid node "$root/bench/serve.mjs" wrangler.toml "$serve_port" \
    "$run/state/$serve_name" "$@" </dev/null >"$run/$serve_name.log" 2>&1) &
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

# Builds the release Roster Worker (scripts/build.sh) and the baselines into
# bench/out/baselines/<name>, the same way.
build_workers() {
  quietly sh scripts/build.sh
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
}
bindgen() { awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$1"; }

# seed_d1 NAME SQL-FILE: Roster's migrations and then SQL-FILE on fresh local D1 state for
# server NAME. Local D1 now and then fails inside wrangler ("false == true"); fresh state
# then succeeds, so it is tried twice.
seed_d1() {
  seed_once() {
    rm -rf "$run/state/$1"
    logged "$wrangler" d1 migrations apply DB --local --persist-to "$run/state/$1" &&
      logged "$wrangler" d1 execute DB --local --persist-to "$run/state/$1" --file "$2"
  }
  seed_once "$1" "$2" || seed_once "$1" "$2" || fail "seeding $1's D1"
}

# start_baselines: serves the two baselines (the one-query baseline's D1 seeded) and
# exports BENCH_HELLO_URL and BENCH_D1_URL, and their sessions BENCH_HELLO_SESSION and
# BENCH_D1_SESSION.
start_baselines() {
  (cd bench/baselines/d1 && quietly "$wrangler" d1 execute DB --local \
    --persist-to "$run/state/d1" --file seed.sql)
  hello_port=$(free_port)
  d1_port=$(free_port)
  serve hello bench/baselines/hello "$hello_port"
  export BENCH_HELLO_SESSION=$!
  serve d1 bench/baselines/d1 "$d1_port"
  export BENCH_D1_SESSION=$!
  export BENCH_HELLO_URL=http://127.0.0.1:$hello_port
  export BENCH_D1_URL=http://127.0.0.1:$d1_port
}

# start_roster VARS-FILE: serves Roster with each `NAME:value` line of VARS-FILE as a var
# and exports BENCH_ROSTER_URL and its session BENCH_ROSTER_SESSION.
start_roster() {
  roster_port=$(free_port)
  roster_vars=$1
  set --
  while IFS= read -r var; do set -- "$@" "$var"; done <"$roster_vars"
  serve roster . "$roster_port" "$@"
  export BENCH_ROSTER_SESSION=$!
  export BENCH_ROSTER_URL=http://127.0.0.1:$roster_port
}

# wait_all: waits until the three servers answer.
wait_all() {
  wait_ready hello "$BENCH_HELLO_URL/"
  wait_ready d1 "$BENCH_D1_URL/items/item-0000"
  wait_ready roster "$BENCH_ROSTER_URL/health"
}
