#!/bin/sh
# Sets up the machine and serves Roster on http://localhost:8787 with local D1 and KV
# (state in .wrangler/state), migrations applied, and invitation emails printed to the log.
# Prints a token to call the API with; mint more with `node scripts/token.mjs <user-id>`.
set -eu
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WRANGLER_SEND_METRICS=false

sh scripts/setup.sh

if [ ! -f .dev.vars ]; then
  # A random HS256 secret for local tokens; never used anywhere else.
  printf 'JWT_HS256_SECRET=%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > .dev.vars
fi

sh scripts/build.sh
npx wrangler d1 migrations apply DB --local

cat <<MSG

Roster is starting on http://localhost:8787 — try:
  curl http://localhost:8787/health
  curl -H "Authorization: Bearer $(node scripts/token.mjs alice alice@example.com Alice)" http://localhost:8787/v1/me

MSG
exec npx wrangler dev --port "${PORT:-8787}" --test-scheduled
