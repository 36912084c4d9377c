#!/usr/bin/env node
// Generates the growth benchmark's data set into a directory: the SQL that seeds Roster's
// local D1 with three organizations of 100, 10,000 and 100,000 members (`g-100`, `g-10k`,
// `g-100k`) among 10,000 small filler organizations, and what the scenarios send to them.
//
// Rows are made inside SQLite by `INSERT … SELECT` over a recursive counter, so the file
// stays small and each statement far below local D1's ~100 KB limit; only what a client must
// know (invitation tokens, JWTs) is made here, and written 100 rows a statement. Inserting
// memberships and usage events by SQL fires the migrations' triggers, which keep
// `orgs.members_count` and `usage_by_member` right.
//
// Each large organization, with M members: one owner, 9 admins, a tenth holding the custom
// role `support`, the last tenth viewers, the rest members; 10 teams (every member but the
// owner in one), 100 resources (each granted `admin` to a team) and one grant of their own
// per member; M/20 pending invitations and M/10 accepted ones; three audit entries per member
// (invited, accepted, added); three usage events for every tenth member in the current
// period; plus the invitations the accept scenario uses up (its own for each pass). Each filler organization: an
// owner and four members, one pending and one accepted invitation, ten audit entries, a
// custom role, a team of the four members, two resources granted to it (so that every kind
// of row is numerous enough to measure its bytes).
//
// Usage: node bench/growth-seed.mjs <out-dir> <accept-pool> <accept-warm-up-pool> <passes>
// (the pools are per organization and pass: each pass of the accept scenario uses its own)
//
// Files written: growth.sql; server.vars (`NAME:value` lines for `wrangler dev --var`);
// growth.json (per organization: slug, members, the JWTs of its member, admin and
// custom-role callers, the `authorize` question, the deep cursor, the accept pair files);
// <slug>.accept.<pass>.pairs, <slug>.accept-warmup.<pass>.pairs, <slug>.accept-probe.pair.
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [outDir, acceptPoolArg, warmupPoolArg, passesArg] = process.argv.slice(2);
if (!outDir || !acceptPoolArg || !warmupPoolArg || !passesArg) {
  console.error(
    "usage: node bench/growth-seed.mjs <out-dir> <accept-pool> <accept-warm-up-pool> <passes>",
  );
  process.exit(2);
}
const PASSES = Number(passesArg);
const ACCEPT_POOL = Number(acceptPoolArg);
const WARMUP_POOL = Number(warmupPoolArg);

const ISSUER = "https://id.bench.roster";
const AUDIENCE = "roster-bench";
const DOMAIN = "growth.roster.test";
const CUSTOM_ROLE = "support";
const TEAMS = 10;
const RESOURCES = 100;
const FILLER_ORGS = 10_000;
const FILLER_MEMBERS = 5;
const FILLER_AUDIT = 10;
const FILLER_RESOURCES = 2;
// Room for every invite the invite scenario may create, on top of members and accepts.
const INVITE_ROOM = 20_000;
const INCLUDED_SEATS = 20; // business

const SIZES = [
  { slug: "g-100", members: 100 },
  { slug: "g-10k", members: 10_000 },
  { slug: "g-100k", members: 100_000 },
];

const now = Math.floor(Date.now() / 1000);
const periodEnd = (() => {
  const end = new Date(now * 1000);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return Math.floor(end.getTime() / 1000);
})();
const expiresAt = now + 7 * 24 * 3600;
const iso = (t) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, "Z");

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

// SQL expressions for values made inside SQLite: a random UUID (v4 layout) and a random
// sha256-like hex digest.
const UUID = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || " +
  "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))";
const DIGEST = "lower(hex(randomblob(32)))";
/** `WITH RECURSIVE n(i) AS (0 … count-1)`, the counter every bulk insert selects from. */
const counter = (count) =>
  `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1})`;

const sql = ["-- Generated by bench/growth-seed.mjs for one growth benchmark run."];
const add = (...statements) => sql.push(...statements);

// Explicit sequence numbers per large organization, so that the deep cursor is known here:
// memberships of organization k are seq 1e7·(k+1) + i for member i.
const membershipBase = (k) => 10_000_000 * (k + 1);
const teamBase = (k) => 1000 * (k + 1);
const resourceBase = (k) => 1000 * (k + 1);

const writeLater = [];
const manifest = { now, sizes: [], filler: { orgs: FILLER_ORGS, members: FILLER_MEMBERS } };

SIZES.forEach(({ slug, members: M }, k) => {
  const orgId = randomUUID();
  const user = (i) => `${slug}-user-${pad(i, 6)}`;
  const userSql = (expr) => `printf('${slug}-user-%06d', ${expr})`;
  const emailSql = (expr) => `printf('${slug}-user-%06d@${DOMAIN}', ${expr})`;
  const nameSql = (expr) => `printf('User %06d of ${slug}', ${expr})`;
  const support = [Math.floor(M / 10), Math.floor(M / 5)]; // [from, to)
  const viewersFrom = Math.floor((M * 9) / 10);
  const roleSql = `CASE WHEN i = 0 THEN 'owner' WHEN i < 10 THEN 'admin' ` +
    `WHEN i >= ${viewersFrom} THEN 'viewer' ` +
    `WHEN i >= ${support[0]} AND i < ${support[1]} THEN '${CUSTOM_ROLE}' ELSE 'member' END`;
  const pending = Math.max(10, Math.floor(M / 20));
  const accepted = Math.floor(M / 10);
  const acceptable = (prefix, size) =>
    Array.from({ length: size }, (_, i) => {
      const id = `${slug}-${prefix}-${pad(i, 6)}`;
      const email = `${slug}-${prefix}${pad(i, 6)}@${DOMAIN}`;
      return { token: token(), email, jwt: jwt(id, email, `Joiner ${prefix} ${pad(i, 6)}`) };
    });
  const probe = acceptable("probe", 1);
  const passes = Array.from({ length: PASSES }, (_, p) => ({
    warmup: acceptable(`warmup${p + 1}-`, WARMUP_POOL),
    accept: acceptable(`joiner${p + 1}-`, ACCEPT_POOL),
  }));
  const resources = Array.from({ length: RESOURCES }, () => randomUUID());
  const seats = M + 1 + PASSES * (WARMUP_POOL + ACCEPT_POOL) + INVITE_ROOM;

  add(
    `-- ${slug}: ${M} members`,
    inserts(
      "orgs",
      ["id", "slug", "name", "plan", "extra_seats", "period_anchor", "period_start", "period_end",
        "created_at", "updated_at"],
      [[orgId, slug, `Growth ${slug}`, "business", seats - INCLUDED_SEATS, now, now, periodEnd,
        now - 86400, now - 86400]],
    ),
    `INSERT INTO users (id, email, email_verified, name, created_at, last_active_at)
${counter(M)}
SELECT ${userSql("i")}, ${emailSql("i")}, 1, ${nameSql("i")}, ${now} - 86400, ${now} - 3600 FROM n;`,
    `INSERT INTO roles (org_id, key, name, permissions, resource_floor, resource_cap, created_at,
  updated_at) VALUES ('${orgId}', '${CUSTOM_ROLE}', 'Support', '["org.read","usage.consume"]',
  NULL, 2, ${now}, ${now});`,
    `INSERT INTO memberships (seq, org_id, user_id, role, joined_at, joined_via)
${counter(M)}
SELECT ${membershipBase(k)} + i, '${orgId}', ${userSql("i")}, ${roleSql},
       ${now} - 86400 + i, CASE WHEN i = 0 THEN 'created' ELSE 'invitation' END FROM n;`,
    `INSERT INTO teams (seq, id, org_id, slug, name, created_at, updated_at)
${counter(TEAMS)}
SELECT ${teamBase(k)} + i, ${UUID}, '${orgId}', printf('team-%02d', i), printf('Team %02d', i),
       ${now} - 86400, ${now} - 86400 FROM n;`,
    `INSERT INTO team_members (team_id, org_id, user_id, team_role, added_at)
${counter(M - 1)}
SELECT t.id, '${orgId}', ${userSql("i + 1")}, CASE WHEN i < 20 THEN 'maintainer' ELSE 'member' END,
       ${now} - 86400 FROM n JOIN teams t ON t.seq = ${teamBase(k)} + (i + 1) % ${TEAMS};`,
    inserts(
      "resources",
      ["seq", "id", "org_id", "name", "created_by", "created_at", "updated_at"],
      resources.map((id, r) => [resourceBase(k) + r, id, orgId, `Resource ${pad(r, 3)}`, user(0),
        now - 86400, now - 86400]),
    ),
    `INSERT INTO team_grants (org_id, resource_id, team_id, level, created_at)
SELECT '${orgId}', r.id, t.id, 3, ${now} - 86400 FROM resources r
  JOIN teams t ON t.seq = ${teamBase(k)} + (r.seq - ${resourceBase(k)}) % ${TEAMS}
 WHERE r.org_id = '${orgId}';`,
    `INSERT INTO grants (org_id, resource_id, user_id, level, created_at)
${counter(M - 1)}
SELECT '${orgId}', r.id, ${userSql("i + 1")}, 1, ${now} - 86400 FROM n
  JOIN resources r ON r.seq = ${resourceBase(k)} + (i * 7) % ${RESOURCES};`,
    // Invitations: pending ones nobody will use, accepted ones that made members 1…
    `INSERT INTO invitations (id, org_id, email, role, status, token_hash, inviter_user_id,
  inviter_name, inviter_email, email_delivery, created_at, expires_at)
${counter(pending)}
SELECT ${UUID}, '${orgId}', printf('${slug}-invitee-%06d@${DOMAIN}', i), 'member', 'pending',
       ${DIGEST}, '${user(0)}', 'User 000000 of ${slug}', '${user(0)}@${DOMAIN}', 'sent',
       ${now} - 3600, ${expiresAt} FROM n;`,
    `INSERT INTO invitations (id, org_id, email, role, status, token_hash, inviter_user_id,
  inviter_name, inviter_email, email_delivery, created_at, expires_at, accepted_at,
  responded_by, ended_at)
${counter(accepted)}
SELECT ${UUID}, '${orgId}', ${emailSql("i + 1")}, 'member', 'accepted', ${DIGEST}, '${user(0)}',
       'User 000000 of ${slug}', '${user(0)}@${DOMAIN}', 'sent', ${now} - 90000, ${now} + 500000,
       ${now} - 86400, ${userSql("i + 1")}, ${now} - 86400 FROM n;`,
    // Three audit entries per member, in the order they happened.
    `INSERT INTO audit_log (id, org_id, at, actor_type, actor_id, action, target_type, target_id,
  data)
${counter(3 * M)}
SELECT ${UUID}, '${orgId}', ${now} - 86400 + i, 'user',
       CASE i % 3 WHEN 2 THEN ${userSql("i / 3")} ELSE '${user(0)}' END,
       CASE i % 3 WHEN 0 THEN 'invitation.created' WHEN 1 THEN 'invitation.accepted'
                  ELSE 'member.added' END,
       CASE i % 3 WHEN 2 THEN 'member' ELSE 'invitation' END,
       CASE i % 3 WHEN 2 THEN ${userSql("i / 3")} ELSE ${UUID} END,
       CASE i % 3
         WHEN 0 THEN json_object('email', ${emailSql("i / 3")}, 'role', 'member',
                                 'expires_at', '${iso(expiresAt)}', 'teams', json('[]'))
         WHEN 1 THEN json_object('email', ${emailSql("i / 3")}, 'user_id', ${userSql("i / 3")},
                                 'role', 'member')
         ELSE json_object('user_id', ${userSql("i / 3")}, 'email', ${emailSql("i / 3")},
                          'name', ${nameSql("i / 3")}, 'role', 'member',
                          'joined_at', '${iso(now - 86400)}', 'joined_via', 'invitation')
       END FROM n;`,
    // Usage: three events for every tenth member in the current period (the trigger fills
    // usage_by_member), and the organization's credits used to match, below the plan's.
    `INSERT INTO usage_events (id, org_id, user_id, amount, feature, idempotency_key,
  request_hash, remaining, period_start, created_at)
${counter(3 * Math.ceil(M / 10))}
SELECT ${UUID}, '${orgId}', ${userSql("(i / 3) * 10")}, 1 + (i / 3) % 5, 'api.calls', ${UUID},
       ${DIGEST}, 5000, ${now}, ${now} + i % 60 FROM n;`,
    `UPDATE orgs SET credits_used = min(9000, (SELECT sum(amount) FROM usage_events
  WHERE org_id = '${orgId}')) WHERE id = '${orgId}';`,
  );
  const invitation = (p) => [
    randomUUID(), orgId, p.email, "member", "[]", "pending", sha256(p.token),
    user(0), `User 000000 of ${slug}`, `${user(0)}@${DOMAIN}`, "logged", now, expiresAt,
  ];
  add(inserts(
    "invitations",
    ["id", "org_id", "email", "role", "grants", "status", "token_hash", "inviter_user_id",
      "inviter_name", "inviter_email", "email_delivery", "created_at", "expires_at"],
    [...probe, ...passes.flatMap((p) => [...p.warmup, ...p.accept])].map(invitation),
  ));

  // The callers: a plain member in the middle, an admin, and a holder of the custom role
  // asking about a resource their team holds `admin` on.
  const memberAt = Math.floor(M / 2);
  const supporter = support[0];
  // The supporter is in team (supporter mod 10), which holds `admin` on resources r ≡ it.
  const resource = resources[supporter % TEAMS];
  const caller = (i) => jwt(user(i), `${user(i)}@${DOMAIN}`, `User ${pad(i, 6)} of ${slug}`);
  const deepAfter = membershipBase(k) + M - 51; // the last full page of 50
  const pairs = (list) => list.map((p) => `${p.token} ${p.jwt}\n`).join("");
  const files = {
    accept: passes.map((_, p) => `${slug}.accept.${p + 1}.pairs`),
    warmup: passes.map((_, p) => `${slug}.accept-warmup.${p + 1}.pairs`),
    probe: `${slug}.accept-probe.pair`,
  };
  passes.forEach((p, i) => writeLater.push([files.accept[i], pairs(p.accept)],
    [files.warmup[i], pairs(p.warmup)]));
  writeLater.push([files.probe, pairs(probe)]);
  manifest.sizes.push({
    slug, members: M, pending, accepted, seats, teams: TEAMS, resources: RESOURCES,
    audit: 3 * M, usage_members: Math.ceil(M / 10),
    member_jwt: caller(memberAt), admin_jwt: caller(1), authorize_jwt: caller(supporter),
    authorize_body: JSON.stringify({ permission: "usage.consume", resource_id: resource,
      level: "write" }),
    deep_cursor: Buffer.from(`after:${deepAfter}`).toString("base64url"),
    files,
  });
});

// The filler: small organizations, each with its owner, four members, two invitations and
// ten audit entries; their users are their own.
const F = FILLER_ORGS;
const fillerUser = (expr) => `printf('f-user-%06d', ${expr})`;
add(
  `-- ${F} filler organizations`,
  `INSERT INTO orgs (seq, id, slug, name, plan, extra_seats, period_anchor, period_start,
  period_end, created_at, updated_at)
${counter(F)}
SELECT 100000 + i, ${UUID}, printf('f-%05d', i), printf('Filler %05d', i), 'pro', 0, ${now},
       ${now}, ${periodEnd}, ${now} - 86400, ${now} - 86400 FROM n;`,
  `INSERT INTO users (id, email, email_verified, name, created_at, last_active_at)
${counter(F * FILLER_MEMBERS)}
SELECT ${fillerUser("i")}, printf('f-user-%06d@${DOMAIN}', i), 1, printf('Filler user %06d', i),
       ${now} - 86400, ${now} - 3600 FROM n;`,
  `INSERT INTO memberships (org_id, user_id, role, joined_at, joined_via)
${counter(F * FILLER_MEMBERS)}
SELECT o.id, ${fillerUser("i")},
       CASE WHEN i % ${FILLER_MEMBERS} = 0 THEN 'owner' ELSE 'member' END, ${now} - 86400 + i,
       CASE WHEN i % ${FILLER_MEMBERS} = 0 THEN 'created' ELSE 'invitation' END
  FROM n JOIN orgs o ON o.seq = 100000 + i / ${FILLER_MEMBERS};`,
  `INSERT INTO roles (org_id, key, name, permissions, resource_floor, resource_cap, created_at,
  updated_at)
SELECT id, '${CUSTOM_ROLE}', 'Support', '["org.read","usage.consume"]', NULL, 2, ${now}, ${now}
  FROM orgs WHERE seq >= 100000;`,
  `INSERT INTO teams (seq, id, org_id, slug, name, created_at, updated_at)
SELECT seq, ${UUID}, id, 'everyone', 'Everyone', ${now} - 86400, ${now} - 86400
  FROM orgs WHERE seq >= 100000;`,
  `INSERT INTO team_members (team_id, org_id, user_id, team_role, added_at)
${counter(F * FILLER_MEMBERS)}
SELECT t.id, t.org_id, ${fillerUser("i")},
       CASE WHEN i % ${FILLER_MEMBERS} = 1 THEN 'maintainer' ELSE 'member' END, ${now} - 86400
  FROM n JOIN teams t ON t.seq = 100000 + i / ${FILLER_MEMBERS} WHERE i % ${FILLER_MEMBERS} <> 0;`,
  `INSERT INTO resources (seq, id, org_id, name, created_by, created_at, updated_at)
${counter(F * FILLER_RESOURCES)}
SELECT 100000 + i, ${UUID}, o.id, printf('Resource %d', i % ${FILLER_RESOURCES}),
       ${fillerUser(`(i / ${FILLER_RESOURCES}) * ${FILLER_MEMBERS}`)}, ${now} - 86400, ${now} - 86400
  FROM n JOIN orgs o ON o.seq = 100000 + i / ${FILLER_RESOURCES};`,
  `INSERT INTO team_grants (org_id, resource_id, team_id, level, created_at)
SELECT r.org_id, r.id, t.id, 2, ${now} - 86400 FROM resources r
  JOIN teams t ON t.seq = 100000 + (r.seq - 100000) / ${FILLER_RESOURCES}
 WHERE r.seq >= 100000;`,
  `INSERT INTO invitations (id, org_id, email, role, status, token_hash, inviter_user_id,
  inviter_name, inviter_email, email_delivery, created_at, expires_at, accepted_at,
  responded_by, ended_at)
${counter(2 * F)}
SELECT ${UUID}, o.id, printf('f-invitee-%06d@${DOMAIN}', i), 'member',
       CASE i % 2 WHEN 0 THEN 'pending' ELSE 'accepted' END, ${DIGEST},
       ${fillerUser(`(i / 2) * ${FILLER_MEMBERS}`)}, 'Filler owner',
       printf('f-user-%06d@${DOMAIN}', (i / 2) * ${FILLER_MEMBERS}), 'sent', ${now} - 3600,
       ${expiresAt}, CASE i % 2 WHEN 1 THEN ${now} - 1800 END,
       CASE i % 2 WHEN 1 THEN ${fillerUser(`(i / 2) * ${FILLER_MEMBERS} + 1`)} END,
       CASE i % 2 WHEN 1 THEN ${now} - 1800 END
  FROM n JOIN orgs o ON o.seq = 100000 + i / 2;`,
  `INSERT INTO audit_log (id, org_id, at, actor_type, actor_id, action, target_type, target_id,
  data)
${counter(F * FILLER_AUDIT)}
SELECT ${UUID}, o.id, ${now} - 86400 + i, 'user', ${fillerUser(`(i / ${FILLER_AUDIT}) * ${FILLER_MEMBERS}`)},
       'member.added', 'member', ${fillerUser(`(i / ${FILLER_AUDIT}) * ${FILLER_MEMBERS} + i % ${FILLER_MEMBERS}`)},
       json_object('user_id', ${fillerUser(`(i / ${FILLER_AUDIT}) * ${FILLER_MEMBERS} + i % ${FILLER_MEMBERS}`)},
                   'email', printf('f-user-%06d@${DOMAIN}', (i / ${FILLER_AUDIT}) * ${FILLER_MEMBERS} + i % ${FILLER_MEMBERS}),
                   'name', printf('Filler user %06d', (i / ${FILLER_AUDIT}) * ${FILLER_MEMBERS} + i % ${FILLER_MEMBERS}),
                   'role', 'member', 'joined_at', '${iso(now - 86400)}', 'joined_via', 'invitation')
  FROM n JOIN orgs o ON o.seq = 100000 + i / ${FILLER_AUDIT};`,
  "",
);

mkdirSync(outDir, { recursive: true });
const write = (name, text) => writeFileSync(join(outDir, name), text);
// wrangler's statement splitter treats `CASE … END` as a compound statement and finds its
// end only where END is followed by white space or `;`: without that, every later `;` would
// be taken for part of one endless statement.
write("growth.sql", sql.join("\n").replace(/\bEND\b(?![\s;])/g, "END "));
const vars = [`JWT_HS256_SECRET:${secret}`, `JWT_ISSUER:${ISSUER}`, `JWT_AUDIENCE:${AUDIENCE}`];
write("server.vars", vars.map((v) => `${v}\n`).join(""));
for (const [name, text] of writeLater) write(name, text);
write("growth.json", JSON.stringify({ ...manifest, accept_pool: ACCEPT_POOL,
  warmup_pool: WARMUP_POOL, passes: PASSES, custom_role: CUSTOM_ROLE }, null, 1));
