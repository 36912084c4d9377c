#!/usr/bin/env node
// Generates the benchmark's data set into a directory: the SQL that seeds Roster's local D1
// with one organization of 1,000 members and 1,000 pending invitations (plus a pool of
// invitations that the accept scenario uses up, one per request), a custom role, teams with
// grants on resources, the JWT secret the server is started with, a member's JWT, the JWT
// and question of the `authorize` scenario, and the invitation tokens the scenarios send.
//
// Usage: node bench/seed.mjs <out-dir> <accept-pool> <accept-warm-up-pool>
//
// Files written: roster.sql; server.vars (`NAME:value` lines for `wrangler dev --var`);
// member.jwt; authorize.jwt and authorize.json; preview.tokens (one token a line); accept.pairs, accept-warmup.pairs and
// accept-probe.pair ("<token> <jwt>" a line); seed.json (what the report says of the data).
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [outDir, acceptPoolArg, warmupPoolArg] = process.argv.slice(2);
if (!outDir || !acceptPoolArg || !warmupPoolArg) {
  console.error("usage: node bench/seed.mjs <out-dir> <accept-pool> <accept-warm-up-pool>");
  process.exit(2);
}

const ISSUER = "https://id.bench.roster";
const AUDIENCE = "roster-bench";
const SLUG = "bench-org";
const MEMBERS = 1000;
const PENDING = 1000;
const TEAMS = 10;
const RESOURCES = 100;
// The custom role of the `authorize` scenario's caller: consumes credits, and reaches
// `write` at most, whatever its teams are granted.
const CUSTOM_ROLE = "support";
const ACCEPT_POOL = Number(acceptPoolArg);
const WARMUP_POOL = Number(warmupPoolArg);
const DOMAIN = "bench.roster.test";
// Seats for everyone who could join: the members, every invitation of the accept pools and
// the probe. Business includes 20; the rest are extra seats.
const INCLUDED_SEATS = 20;
const SEATS = MEMBERS + ACCEPT_POOL + WARMUP_POOL + 1;

const now = Math.floor(Date.now() / 1000);
const periodEnd = (() => {
  const end = new Date(now * 1000);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return Math.floor(end.getTime() / 1000);
})();
const expiresAt = now + 7 * 24 * 3600;

const secret = randomBytes(32).toString("hex");
const token = () => randomBytes(32).toString("base64url");
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const sqlText = (value) => (value === null ? "NULL" : `'${String(value).replaceAll("'", "''")}'`);
const pad = (n, width) => String(n).padStart(width, "0");

function jwt(sub, email, name) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = {
    sub, email, email_verified: true, name,
    iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 6 * 3600,
  };
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}

/** `INSERT INTO table (columns) VALUES …`, 100 rows a statement (D1 refuses over 100 KB). */
function inserts(table, columns, rows) {
  const out = [];
  for (let i = 0; i < rows.length; i += 100) {
    const values = rows
      .slice(i, i + 100)
      .map((row) => `(${row.map(sqlText).join(", ")})`)
      .join(",\n");
    out.push(`INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${values};`);
  }
  return out.join("\n");
}

const orgId = randomUUID();
const users = Array.from({ length: MEMBERS }, (_, i) => ({
  id: `bench-user-${pad(i, 4)}`,
  email: `user${pad(i, 4)}@${DOMAIN}`,
  name: `User ${pad(i, 4)}`,
  // One owner, a few admins, viewers at the end, a custom role's holders and members in
  // between.
  role: i === 0 ? "owner" : i < 10 ? "admin" : i >= 900 ? "viewer"
    : i >= 100 && i < 200 ? CUSTOM_ROLE : "member",
}));
const owner = users[0];
const member = users[10];
const supporter = users[150];

// Every member but the owner is in one team (the first twenty maintain theirs); each team
// holds `admin` on a tenth of the resources, and each member has a grant of their own.
const teams = Array.from({ length: TEAMS }, (_, t) => ({
  id: randomUUID(), slug: `team-${pad(t, 2)}`, name: `Team ${pad(t, 2)}`,
}));
const resources = Array.from({ length: RESOURCES }, (_, r) => ({
  id: randomUUID(), name: `Resource ${pad(r, 3)}`,
}));
const teamOf = (i) => teams[i % TEAMS];
// A resource that the caller's team holds `admin` on.
const granted = resources.find((_, r) => r % TEAMS === users.indexOf(supporter) % TEAMS);

const invitation = (email, tok) => [
  randomUUID(), orgId, email, "member", "[]", "pending", sha256(tok),
  owner.id, owner.name, owner.email, "logged", now, expiresAt,
];
const invitationColumns = [
  "id", "org_id", "email", "role", "grants", "status", "token_hash",
  "inviter_user_id", "inviter_name", "inviter_email", "email_delivery", "created_at", "expires_at",
];

const previewTokens = Array.from({ length: PENDING }, token);
/** Invitations someone accepts: each token with a JWT of the (new) user it is addressed to. */
function acceptPool(prefix, size) {
  return Array.from({ length: size }, (_, i) => {
    const id = `bench-${prefix}-${pad(i, 6)}`;
    const email = `${prefix}${pad(i, 6)}@${DOMAIN}`;
    return { token: token(), email, jwt: jwt(id, email, `Joiner ${prefix} ${pad(i, 6)}`) };
  });
}
const probe = acceptPool("probe", 1);
const warmup = acceptPool("warmup", WARMUP_POOL);
const accept = acceptPool("joiner", ACCEPT_POOL);

const sql = [
  "-- Generated by bench/seed.mjs for one benchmark run.",
  inserts(
    "orgs",
    ["id", "slug", "name", "plan", "extra_seats", "period_anchor", "period_start", "period_end",
      "created_at", "updated_at"],
    [[orgId, SLUG, "Bench Org", "business", SEATS - INCLUDED_SEATS, now, now, periodEnd, now, now]],
  ),
  inserts(
    "users",
    ["id", "email", "email_verified", "name", "created_at", "last_active_at"],
    users.map((u) => [u.id, u.email, 1, u.name, now - 3600, now - 3600]),
  ),
  inserts(
    "memberships",
    ["org_id", "user_id", "role", "joined_at"],
    users.map((u) => [orgId, u.id, u.role, now - 3600]),
  ),
  inserts(
    "roles",
    ["org_id", "key", "name", "permissions", "resource_floor", "resource_cap", "created_at",
      "updated_at"],
    [[orgId, CUSTOM_ROLE, "Support", '["org.read","usage.consume"]', null, 2, now, now]],
  ),
  inserts(
    "teams",
    ["id", "org_id", "slug", "name", "created_at", "updated_at"],
    teams.map((t) => [t.id, orgId, t.slug, t.name, now - 3600, now - 3600]),
  ),
  inserts(
    "team_members",
    ["team_id", "org_id", "user_id", "team_role", "added_at"],
    users.slice(1).map((u, i) => [teamOf(i + 1).id, orgId, u.id, i < 20 ? "maintainer" : "member",
      now - 3600]),
  ),
  inserts(
    "resources",
    ["id", "org_id", "name", "created_by", "created_at", "updated_at"],
    resources.map((r) => [r.id, orgId, r.name, owner.id, now - 3600, now - 3600]),
  ),
  inserts(
    "team_grants",
    ["org_id", "resource_id", "team_id", "level", "created_at"],
    resources.map((r, i) => [orgId, r.id, teams[i % TEAMS].id, 3, now - 3600]),
  ),
  inserts(
    "grants",
    ["org_id", "resource_id", "user_id", "level", "created_at"],
    users.slice(1).map((u, i) => [orgId, resources[(i * 7) % RESOURCES].id, u.id, 1, now - 3600]),
  ),
  inserts(
    "invitations",
    invitationColumns,
    [
      ...previewTokens.map((t, i) => invitation(`invitee${pad(i, 4)}@${DOMAIN}`, t)),
      ...[...probe, ...warmup, ...accept].map((p) => invitation(p.email, p.token)),
    ],
  ),
  "",
].join("\n");

mkdirSync(outDir, { recursive: true });
const write = (name, text) => writeFileSync(join(outDir, name), text);
const pairs = (list) => list.map((p) => `${p.token} ${p.jwt}\n`).join("");
write("roster.sql", sql);
const vars = [`JWT_HS256_SECRET:${secret}`, `JWT_ISSUER:${ISSUER}`, `JWT_AUDIENCE:${AUDIENCE}`];
write("server.vars", vars.map((v) => `${v}\n`).join(""));
write("member.jwt", jwt(member.id, member.email, member.name));
write("authorize.jwt", jwt(supporter.id, supporter.email, supporter.name));
write(
  "authorize.json",
  JSON.stringify({ permission: "usage.consume", resource_id: granted.id, level: "write" }),
);
write("preview.tokens", previewTokens.join("\n") + "\n");
write("accept-probe.pair", pairs(probe));
write("accept-warmup.pairs", pairs(warmup));
write("accept.pairs", pairs(accept));
write(
  "seed.json",
  JSON.stringify({
    slug: SLUG, members: MEMBERS, pending: PENDING,
    accept_pool: ACCEPT_POOL, warmup_pool: WARMUP_POOL, seats: SEATS, caller_role: member.role,
    custom_role: CUSTOM_ROLE, teams: TEAMS, resources: RESOURCES,
  }),
);
