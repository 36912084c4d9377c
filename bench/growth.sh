#!/bin/sh
# The growth benchmark: whether a request costs the same as an organization grows from 100
# to 100,000 members, and how many bytes each kind of row takes.
#
# Builds the release Roster Worker and the two baselines as bench/run.sh does (helpers in
# bench/lib.sh), generates the data (bench/growth-seed.mjs: organizations `g-100`, `g-10k`,
# `g-100k` among 10,000 small ones) and seeds one local D1 database with it by SQL
# (`wrangler d1 execute --local --file`, timed), copies the seeded database file for
# `dbstat`, serves the three Workers (bench/serve.mjs), drives every scenario at every
# size with wrk (bench/growth-drive.mjs, bench/load.lua), and writes bench/GROWTH.md (also
# printed). Not part of the test command: it takes several minutes. Everything the run
# makes goes to bench/out/growth (git-ignored).
#
# Tunable through the environment: BENCH_THREADS (2), BENCH_CONNECTIONS (16),
# BENCH_DURATION (3 s), BENCH_WARMUP (1 s), BENCH_PASSES (1; with 2, each scenario is
# measured at every size twice, in turn and then in reverse order).
#
# The run is kept to some 60,000 requests. Under `wrangler dev`, whose DevTools relay keeps
# 20-35 KB for every request served, a server aborted when its JavaScript heap reached about
# 1.3 GB, which 5 s + 2 s and two passes reached at the third scenario; served without the
# relay (bench/serve.mjs), each of a server's two runtime processes still keeps some 6 KB a
# request.
set -eu
run=$(cd "$(dirname "$0")" && pwd)/out/growth
. "$(dirname "$0")/lib.sh"

export BENCH_THREADS=${BENCH_THREADS:-2}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-16}
export BENCH_DURATION=${BENCH_DURATION:-3}
export BENCH_WARMUP=${BENCH_WARMUP:-1}
passes=${BENCH_PASSES:-1}
# Invitations the accept scenario uses up per organization and pass, one per request: room
# for 600 accepts a second (bench/RESULTS.md measures under 300).
accept_pool=$((BENCH_DURATION * 600))
warmup_pool=$((BENCH_WARMUP * 600))

started=$(date +%s)
sh scripts/setup.sh --bench
command -v sqlite3 >/dev/null 2>&1 || {
  say "the sqlite3 command (Debian: sqlite3) measures the bytes per row; install it"
  exit 1
}
rm -rf "$run"
mkdir -p "$run/state"

say "building Roster and the baselines"
build_workers

say "seeding local D1 (organizations of 100, 10,000 and 100,000 members, 10,000 small ones)"
quietly node bench/growth-seed.mjs "$run/data" "$accept_pool" "$warmup_pool" "$passes"
wc -c <"$run/data/growth.sql" | tr -d ' ' >"$run/data/sql.bytes"
seeding=$(date +%s)
seed_d1 roster "$run/data/growth.sql"
echo "$(($(date +%s) - seeding))" >"$run/data/seed.seconds"
# The database file as seeded, for dbstat: the largest SQLite file of Roster's D1 state.
db=$(find "$run/state/roster" -path '*d1*' -name '*.sqlite' -exec ls -S {} + | head -n 1)
[ -n "$db" ] || { say "no D1 file under $run/state/roster"; exit 1; }
cp "$db" "$run/data/seeded.sqlite"
[ ! -f "$db-wal" ] || cp "$db-wal" "$run/data/seeded.sqlite-wal"
# Folds a copied write-ahead log into the copy.
sqlite3 "$run/data/seeded.sqlite" 'PRAGMA journal_mode = DELETE;' >/dev/null
say "seeded in $(cat "$run/data/seed.seconds") s"

say "starting the servers"
start_baselines
start_roster "$run/data/server.vars"
wait_all

say "driving the scenarios ($BENCH_DURATION s each after $BENCH_WARMUP s of warm-up)"
status=0
BENCH_RUN_DIR=$run/data BENCH_GROWTH=$root/bench/GROWTH.md node bench/growth-drive.mjs ||
  status=$?
stop_servers
say "done in $(($(date +%s) - started)) s; the servers' logs are in bench/out/growth"
exit "$status"
