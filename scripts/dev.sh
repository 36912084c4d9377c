#!/bin/sh
# Sets up the machine and serves Roster on http://localhost:8787 with local D1 and KV
# (state in .wrangler/state), migrations applied, and invitation emails printed to the log.
# Prints a token to call the API with (mint more with `node scripts/token.mjs <user-id>`),
# and a link into the console of a demo organization it seeds.
#
# Locally there is no product app to accept invitations in: DEV_SIGN_IN=1 turns on the
# console's demo sign-in, where an invitation page's button leads (APP_URL points there),
# to accept as the invited address. Never set DEV_SIGN_IN for a deployment.
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WRANGLER_SEND_METRICS=false
port="${PORT:-8787}"
base="http://localhost:$port"

sh scripts/setup.sh

if [ ! -f .dev.vars ]; then
  # A random HS256 secret for local tokens; never used anywhere else.
  printf 'JWT_HS256_SECRET=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > .dev.vars
fi

sh scripts/build.sh
npx wrangler d1 migrations apply DB --local

npx wrangler dev --port "$port" --test-scheduled \
  --var "PUBLIC_URL:$base" --var "APP_URL:$base/console/dev" --var DEV_SIGN_IN:1 &
server=$!
trap 'kill "$server" 2>/dev/null' INT TERM

tries=0
until curl -fsS "$base/health" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 240 ] || ! kill -0 "$server" 2>/dev/null; then
    echo "dev: Roster did not start" >&2
    exit 1
  fi
  sleep 0.5
done

# The demo organization, owned by Alice (created once; later runs find it).
token=$(node scripts/token.mjs alice alice@example.com Alice)
curl -sS -o /dev/null -X POST "$base/v1/orgs" \
  -H "Authorization: Bearer $token" -H "content-type: application/json" \
  -d '{"name": "Demo Company", "slug": "demo", "plan": "business"}'
link=$(curl -fsS -X POST "$base/v1/orgs/demo/console-links" \
  -H "Authorization: Bearer $token" -H "content-type: application/json" \
  -d "{\"return_url\": \"$base/console/dev/\"}" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).url))')

cat <<MSG

Roster is running on $base — try:
  curl $base/health
  curl -H "Authorization: Bearer $token" $base/v1/me

The console of the demo organization, as its owner Alice (the link works once, for 5
minutes; mint another with POST /v1/orgs/demo/console-links):
  $link

Invitations sent from it are printed in this log; their page's button leads to a demo
sign-in that accepts them.

MSG
wait "$server"
