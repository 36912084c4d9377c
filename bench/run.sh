#!/bin/sh
# The benchmark, in one command: Roster's cost per request against the platform's floor.
#
# Sets up the machine (scripts/setup.sh --bench), builds the release Roster Worker and two
# baseline Workers the same way (bench/baselines: hello world, and exactly one D1 SELECT by
# primary key), runs the micro-benchmarks (benches/hot_paths.rs) while the CPUs are quiet,
# seeds Roster's local D1 (bench/seed.mjs), serves the three Workers (bench/serve.mjs) on
# fresh local state and free ports, drives each scenario with wrk (bench/drive.mjs,
# bench/load.lua), and writes bench/RESULTS.md (also printed). Servers are stopped on exit,
# whatever happens. Everything the run makes goes to bench/out (git-ignored).
#
# Tunable through the environment: BENCH_THREADS (2), BENCH_CONNECTIONS (16),
# BENCH_DURATION (10 s), BENCH_WARMUP (3 s).
set -eu
. "$(dirname "$0")/lib.sh"

export BENCH_THREADS=${BENCH_THREADS:-2}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
export BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_WARMUP=${BENCH_WARMUP:-3}
# Invitations the accept scenario uses up, one per request: room for 2,000 accepts a second.
accept_pool=$((BENCH_DURATION * 2000))
warmup_pool=$((BENCH_WARMUP * 2000))

started=$(date +%s)
sh scripts/setup.sh --bench
rm -rf "$run"
mkdir -p "$run/state"

say "building Roster and the baselines"
build_workers

say "running the micro-benchmarks"
rm -rf "$target/criterion"
quietly cargo bench --bench hot_paths -- --warm-up-time 1 --measurement-time 3

say "seeding local D1"
quietly node bench/seed.mjs "$run/data" "$accept_pool" "$warmup_pool"
seed_d1 roster "$run/data/roster.sql"

say "starting the servers"
start_baselines
start_roster "$run/data/server.vars"
wait_all

say "driving the scenarios ($BENCH_DURATION s each after $BENCH_WARMUP s of warm-up)"
status=0
BENCH_RUN_DIR=$run/data BENCH_CRITERION_DIR=$target/criterion \
  BENCH_RESULTS=$root/bench/RESULTS.md node bench/drive.mjs || status=$?
stop_servers
say "done in $(($(date +%s) - started)) s; the servers' logs are in bench/out/run"
exit "$status"
