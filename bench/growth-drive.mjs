#!/usr/bin/env node
// Runs the growth benchmark's scenarios against servers bench/growth.sh has started, and
// writes the report: the same requests to organizations of 100, 10,000 and 100,000 members
// in one database, each as a ratio to the 100-member organization and to the one-query
// baseline measured in the same run; then the bytes each kind of row takes in the seeded
// database (SQLite's `dbstat` on a copy of the local D1 file) and what fits in one D1
// database.
//
// Environment (set by bench/growth.sh): BENCH_RUN_DIR (the data of bench/growth-seed.mjs,
// plus seeded.sqlite, seed.seconds and sql.bytes), BENCH_HELLO_URL, BENCH_D1_URL,
// BENCH_ROSTER_URL, BENCH_THREADS, BENCH_CONNECTIONS, BENCH_DURATION and BENCH_WARMUP
// (seconds), BENCH_GROWTH (the file to write). Exits 1 when a scenario failed (the report
// is written all the same).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import {
  command, documents, loadAverage, ms, npmVersion, root, say, send, serverTiming, settings,
} from "./driving.mjs";

const { env, runDir, urls, load } = settings("bench/growth.sh");
const data = (name) => join(runDir, name);
const seed = JSON.parse(readFileSync(data("growth.json"), "utf8"));

// The scenarios, each asked of every organization in turn (smallest first, so that the
// sizes of one scenario are measured close together in time).
const kinds = [
  {
    name: "GET /v1/orgs/{slug}", route: "/v1/orgs/{slug}",
    make: (o) => ({ method: "GET", path: `/v1/orgs/${o.slug}`, jwt: o.member_jwt }),
  },
  {
    name: "members, first page", route: "/v1/orgs/{slug}/members",
    make: (o) => ({ method: "GET", path: `/v1/orgs/${o.slug}/members?limit=50`, jwt: o.member_jwt }),
  },
  {
    name: "members, page at a deep cursor", route: "/v1/orgs/{slug}/members",
    make: (o) => ({
      method: "GET", path: `/v1/orgs/${o.slug}/members?limit=50&cursor=${o.deep_cursor}`,
      jwt: o.member_jwt,
    }),
  },
  {
    name: "POST …/authorize", route: "/v1/orgs/{slug}/authorize",
    make: (o) => ({
      method: "POST", path: `/v1/orgs/${o.slug}/authorize`, jwt: o.authorize_jwt,
      body: o.authorize_body,
    }),
  },
  {
    name: "GET …/billing", route: "/v1/orgs/{slug}/billing",
    make: (o) => ({ method: "GET", path: `/v1/orgs/${o.slug}/billing`, jwt: o.admin_jwt }),
  },
  {
    name: "GET …/usage", route: "/v1/orgs/{slug}/usage",
    make: (o) => ({ method: "GET", path: `/v1/orgs/${o.slug}/usage`, jwt: o.admin_jwt }),
  },
  {
    name: "audit log, first page", route: "/v1/orgs/{slug}/audit-log",
    make: (o) => ({ method: "GET", path: `/v1/orgs/${o.slug}/audit-log`, jwt: o.admin_jwt }),
  },
  {
    name: "invite (POST …/invitations)", route: "/v1/orgs/{slug}/invitations",
    make: (o) => ({
      method: "POST", path: `/v1/orgs/${o.slug}/invitations`, jwt: o.admin_jwt,
      body: JSON.stringify({ email: `invite-{unique}@growth.roster.test`, role: "member" }),
    }),
  },
  {
    name: "accept (POST /v1/invitations/{token}/accept)", route: "/v1/invitations/{token}/accept",
    make: (o, pass) => {
      const [token, jwt] = readFileSync(data(o.files.probe), "utf8").trim().split(" ");
      return {
        method: "POST", path: "/v1/invitations/{token}/accept",
        pairs: data(o.files.accept[pass]), warmupPairs: data(o.files.warmup[pass]),
        probe: { token, jwt },
      };
    },
  },
];

/** The sample request: its status, problem code and Server-Timing metrics. */
async function probe(server, s) {
  const jwt = s.probe?.jwt ?? s.jwt;
  const body = s.body?.replace("{unique}", `probe-${Date.now().toString(36)}`);
  const headers = { "content-length": String(Buffer.byteLength(body ?? "")) };
  if (jwt) headers.authorization = `Bearer ${jwt}`;
  if (body) headers["content-type"] = "application/json";
  // Token endpoints are limited per address; the sample comes from one of its own.
  headers["cf-connecting-ip"] = "10.255.255.1";
  const path = s.path.replace("{token}", s.probe?.token ?? "");
  const response = await send(urls[server] + path, { method: s.method, headers, body });
  let problem = {};
  try {
    problem = JSON.parse(response.text);
  } catch {
    // Not JSON: a baseline's text answer.
  }
  return {
    status: response.status, code: problem?.code, detail: problem?.detail,
    timing: serverTiming(response.headers["server-timing"]),
  };
}

let runs = 0;
/** One wrk run; the numbers of its `done()` line. */
function wrk(server, s, seconds, pairs) {
  runs += 1;
  const args = [
    "-t", String(load.threads), "-c", String(load.connections), "-d", `${seconds}s`,
    "--timeout", "10s", "-s", join(root, "bench/load.lua"), urls[server],
  ];
  const run = spawnSync("wrk", args, {
    encoding: "utf8",
    env: {
      ...process.env,
      BENCH_METHOD: s.method,
      BENCH_PATH: s.path,
      BENCH_BODY: s.body ?? "",
      BENCH_NONCE: `${Date.now().toString(36)}-${runs}`,
      BENCH_JWT: s.jwt ?? "",
      BENCH_TOKENS: "",
      BENCH_PAIRS: pairs ?? "",
      BENCH_THREADS: String(load.threads),
    },
  });
  const line = run.stdout?.split("\n").find((l) => l.startsWith("BENCH "));
  if (run.status !== 0 || !line) {
    throw new Error(`wrk failed (${run.status}): ${run.stderr || run.stdout}`);
  }
  const numbers = JSON.parse(line.slice("BENCH ".length));
  return { ...numbers, rps: numbers.requests / (numbers.duration_us / 1e6) };
}

/** A sample request (unless `sampled` is given: an earlier pass's), a warm-up, a run. */
async function measure(server, s, sampled) {
  const sample = sampled ?? (await probe(server, s));
  if (sample.status < 200 || sample.status > 299) {
    const why = [sample.code, sample.detail].filter(Boolean).join(": ");
    return { failed: `sample request answered ${sample.status}${why ? ` ${why}` : ""}` };
  }
  wrk(server, s, load.warmup, s.warmupPairs ?? s.pairs);
  const measured = wrk(server, s, load.duration, s.pairs);
  return { sample, measured };
}

/** Bytes per table (its own b-tree and its indexes') and rows, from `dbstat`. */
function bytes(file) {
  const query = (sql) =>
    JSON.parse(execFileSync("sqlite3", ["-json", "-readonly", file, sql], { encoding: "utf8" }) ||
      "[]");
  const objects = query(
    `SELECT d.name AS name, coalesce(m.tbl_name, d.name) AS tbl, m.type AS type,
            sum(d.pgsize) AS bytes, sum(d.payload) AS payload
       FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY d.name`,
  );
  const tables = {};
  for (const o of objects) {
    const t = (tables[o.tbl] ??= { table: 0, indexes: 0, payload: 0, rows: 0 });
    if (o.name === o.tbl) {
      t.table += o.bytes;
      t.payload += o.payload;
    } else t.indexes += o.bytes;
  }
  const names = Object.keys(tables).filter((n) => /^[a-z_]+$/.test(n) &&
    !n.startsWith("sqlite_") && !n.startsWith("_cf") && !n.startsWith("d1_"));
  for (const n of Object.keys(tables)) if (!names.includes(n)) delete tables[n];
  const counts = query(names.map((n) => `SELECT '${n}' AS name, count(*) AS rows FROM ${n}`)
    .join(" UNION ALL "));
  for (const c of counts) tables[c.name].rows = c.rows;
  const [{ page_size: pageSize }] = query("PRAGMA page_size");
  const [{ page_count: pageCount }] = query("PRAGMA page_count");
  const [{ freelist_count: free }] = query("PRAGMA freelist_count");
  return { tables, pageSize, pageCount, free, fileBytes: statSync(file).size };
}

const count = (n) => Math.round(n).toLocaleString("en-US");
const pct = (x) => `${(100 * x).toFixed(0)} %`;
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

// ---- run ----
const started = new Date();
const load1 = { before: loadAverage() };
const openapi = JSON.parse((await send(`${urls.roster}/openapi.json`)).text);
const documented = (route, method) => documents(openapi, route, method);

const baselineScenario = { method: "GET", path: "/items/item-0042" };
const baselines = [];
let failed = false;
async function baseline(label) {
  const r = await measure("d1", baselineScenario);
  baselines.push({ label, ...r });
  say(`baseline (${label}): ${r.measured ? `${r.measured.rps.toFixed(0)} req/s` : r.failed}`);
}
const hello = await measure("hello", { method: "GET", path: "/" });
say(`hello world: ${hello.measured?.rps.toFixed(0)} req/s`);
await baseline("first");
// Each scenario is measured in passes, the sizes in turn and in reverse order on every
// other pass (100, 10k, 100k, then 100k, 10k, 100): a machine growing slower or faster
// during the scenario then weighs on every size alike.
const results = [];
for (const kind of kinds) {
  const rows = seed.sizes.map((org) => ({ org, runs: [] }));
  for (let pass = 0; pass < seed.passes; pass++) {
    const order = pass % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      if (row.failed || row.skipped) continue;
      const s = kind.make(row.org, pass);
      if (!documented(kind.route, s.method)) {
        row.skipped = "not in /openapi.json";
        continue;
      }
      let r;
      try {
        r = await measure("roster", s, row.sample);
      } catch (error) {
        r = { failed: String(error.message ?? error).split("\n")[0] };
      }
      if (r.failed) {
        row.failed = r.failed;
        failed = true;
      } else {
        row.sample = r.sample;
        row.runs.push(r.measured);
      }
      say(`${kind.name} @ ${row.org.slug}, pass ${pass + 1}: ` +
        (r.measured ? `${r.measured.rps.toFixed(0)} req/s` : r.failed));
    }
  }
  for (const row of rows) {
    if (row.failed || row.skipped || row.runs.length === 0) continue;
    const mean = (f) => row.runs.reduce((sum, m) => sum + f(m), 0) / row.runs.length;
    row.measured = {
      rps: mean((m) => m.rps), p50_us: mean((m) => m.p50_us), p99_us: mean((m) => m.p99_us),
      non_2xx: mean((m) => m.non_2xx) * row.runs.length,
      socket_errors: mean((m) => m.socket_errors) * row.runs.length,
      exhausted_threads: row.runs.some((m) => m.exhausted_threads),
      passes: row.runs.map((m) => m.rps),
    };
  }
  results.push({ kind, rows });
}
await baseline("last");
load1.after = loadAverage();

const floors = baselines.filter((b) => b.measured).map((b) => b.measured.rps);
const floor = floors.reduce((a, b) => a + b, 0) / (floors.length || NaN);
const db = bytes(data("seeded.sqlite"));
const seedSeconds = Number(readFileSync(data("seed.seconds"), "utf8"));
const sqlBytes = Number(readFileSync(data("sql.bytes"), "utf8"));

// ---- report ----
const cpu = cpus();
const lines = [];
const add = (...l) => lines.push(...l);

add(
  "# Roster growth benchmark",
  "",
  "Whether a request costs the same in an organization of 100,000 members as in one of 100:",
  "one run of `sh bench/growth.sh` (see the README's Benchmark section), the same requests",
  "to three organizations of one local D1 database, next to the one-query baseline measured",
  "in the same run; then the bytes each kind of row takes, which ARCHITECTURE.md's capacity",
  "note works from. Served as `wrangler dev` serves them, without DevTools",
  "(`bench/serve.mjs`), on local D1 and KV: the numbers compare sizes and the floor on this",
  "machine, not production capacity. wrk and the servers share the CPUs, and anything else",
  "running on the machine shows in the numbers.",
  "",
  `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")}`,
  `- Machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}`,
  `- Load average (1 min): ${load1.before} before the scenarios, ${load1.after} after ` +
    "(the run's own load included; other work was running on the machine)",
  `- Platform: wrangler ${npmVersion("wrangler")}, workerd ${npmVersion("workerd")}, ` +
    `Node.js ${process.version}, ${command("sqlite3", "--version").split(" ").slice(0, 1)} ` +
    "(sqlite3 CLI, for `dbstat`)",
  `- Load: ${command("wrk", "-v").replace(/ Copyright.*/, "")}, ` +
    `\`wrk -t${load.threads} -c${load.connections} -d${load.duration}s --timeout 10s ` +
    `-s bench/load.lua\` per scenario, size and pass (${seed.passes} ${seed.passes === 1 ? "pass" : "passes"}), each after a ` +
    `${load.warmup} s warm-up with the same requests (shorter than \`bench/run.sh\`'s ` +
    "10 s + 3 s, to keep the run to minutes)",
  `- Data: one database holding \`g-100\`, \`g-10k\` and \`g-100k\` (business plan) among ` +
    `${count(seed.filler.orgs)} filler organizations of ${seed.filler.members} members; ` +
    `${count(db.tables.orgs.rows)} organizations, ${count(db.tables.users.rows)} users, ` +
    `${count(db.tables.memberships.rows)} memberships, ` +
    `${count(db.tables.invitations.rows)} invitations, ` +
    `${count(db.tables.audit_log.rows)} audit entries in all`,
  `- Each large organization of M members: 1 owner, 9 admins, M/10 holders of the custom ` +
    `role \`${seed.custom_role}\`, M/10 viewers, the rest members; 10 teams (every member ` +
    "but the owner in one), 100 resources each granted `admin` to a team, a grant of each " +
    "member's own; M/20 pending and M/10 accepted invitations; 3 audit entries per member; " +
    "3 usage events in the current period for every tenth member; plus " +
    `${count(seed.passes * (seed.accept_pool + seed.warmup_pool) + 1)} pending invitations ` +
    `for accept (per pass ${count(seed.accept_pool)} measured and ${count(seed.warmup_pool)} ` +
    "warm-up, and 1 sample)",
  `- Seeding: \`wrangler d1 execute --local --file\` of ${mb(sqlBytes)} of generated SQL ` +
    `(bench/growth-seed.mjs: \`INSERT … SELECT\` over a recursive counter, tokens 100 rows a ` +
    `statement), after the migrations: ${seedSeconds} s; the database file then ` +
    `${mb(db.fileBytes)}`,
  "",
  "## Requests",
  "",
  "- reads of the organization and its members: as a member (role `member`) in the middle of",
  "  the organization, with an HS256 JWT the run minted",
  "- members page at a deep cursor: `?limit=50&cursor=` naming the 51st membership from the",
  "  end, so the page is the last full one",
  `- \`authorize\`: as a holder of \`${seed.custom_role}\`, asking for \`usage.consume\` and ` +
    "`write` on a resource their team holds `admin` on",
  "- billing, usage (its first page, most used first), audit log (its first page, newest",
  "  first), invite: as an admin; invite sends `{email, role: member}`, every request a new",
  "  address",
  "- accept: every request a fresh invitation's token with the JWT of the new user it is",
  "  addressed to, each used once, from an address of its own (the token endpoints' limit)",
  "",
  "## Results",
  "",
  `Per scenario: requests/s at each size, the mean of ${seed.passes} passes (the sizes in ` +
    "turn, then in reverse order, so that drift of the machine weighs on every size alike; " +
    "each pass's figure is listed), as a share of the 100-member organization's and of the " +
    "one-query baseline's (the mean of its runs before and after the scenarios), and D1 " +
    "round trips from `Server-Timing` on the sample request. Flat means within ±10 % of the " +
    "100-member organization; on a shared machine the passes of one size can differ by more " +
    "than that, so read a ratio against the spread of its passes.",
  "",
);
const summary = [];
for (const { kind, rows } of results) {
  add(`### ${kind.name}`, "",
    "| members | req/s | passes | p50 | p99 | vs 100 members | vs one-query baseline | D1 round trips | non-2xx |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  const base = rows[0]?.measured?.rps;
  for (const r of rows) {
    const size = count(r.org.members);
    if (!r.measured) {
      add(`| ${size} | ${r.failed ? `failed: ${r.failed}` : `skipped: ${r.skipped}`} | | | | | | | |`);
      continue;
    }
    const m = r.measured;
    const others = Object.entries(r.sample.timing).filter(([k]) => k !== "d1");
    const trips = `${r.sample.timing.d1 ?? "?"}${others.map(([k, v]) => `, ${k} ${v}`).join("")}`;
    const ranOut = m.exhausted_threads ? " (ran out of tokens)" : "";
    add(`| ${size} | ${m.rps.toFixed(0)} | ${m.passes.map((x) => x.toFixed(0)).join(", ")} | ` +
      `${ms(m.p50_us)} ms | ${ms(m.p99_us)} ms | ` +
      `${base ? pct(m.rps / base) : "n/a"} | ${pct(m.rps / floor)} | ${trips} | ` +
      `${m.non_2xx + m.socket_errors}${ranOut} |`);
  }
  add("");
  const ratios = rows.map((r) => (r.measured && base ? r.measured.rps / base : NaN));
  // Slower beyond the noise: below 90 % of the smallest size, every pass below every pass
  // of the smallest size.
  const passes = rows.map((r) => r.measured?.passes ?? []);
  const slower = rows.some((r, i) => ratios[i] < 0.9 &&
    Math.max(...passes[i]) < Math.min(...passes[0]));
  summary.push({ name: kind.name, ratios, slower, trips: rows.map((r) => r.sample?.timing.d1) });
}
add(
  "### Summary",
  "",
  "| scenario | 10,000 vs 100 | 100,000 vs 100 | D1 round trips (100 / 10k / 100k) | flat (±10 %) |",
  "|---|--:|--:|--:|---|",
);
for (const s of summary) {
  const flat = s.ratios.every((x) => x >= 0.9 && x <= 1.1);
  const show = (x) => (Number.isNaN(x) ? "n/a" : pct(x));
  const verdict = s.ratios.some(Number.isNaN) ? "not measured"
    : flat ? "yes"
    : s.slower ? "**no**: slower"
    : "within noise";
  add(`| ${s.name} | ${show(s.ratios[1])} | ${show(s.ratios[2])} | ` +
    `${s.trips.map((t) => t ?? "?").join(" / ")} | ${verdict} |`);
}
const [first, last] = baselines.map((b) => b.measured?.rps);
add(
  "",
  "flat: every size within ±10 % of the 100-member organization. **no**: slower: a size " +
    "below 90 % with every one of its passes below every pass of the 100-member " +
    "organization. within noise: outside ±10 %, but faster, or with passes overlapping " +
    "those of the 100-member organization.",
  "",
  `Baselines: one D1 SELECT ${first?.toFixed(0)} req/s before the scenarios, ` +
    `${last?.toFixed(0)} after (moved ${(100 * (last / first - 1)).toFixed(0)} %: a measure ` +
    `of how steady the machine was); hello world ${hello.measured?.rps.toFixed(0)} req/s.`,
  "",
  "## Bytes per row",
  "",
  `Measured with SQLite's \`dbstat\` (sqlite3 CLI) on a copy of the local D1 file taken ` +
    "right after seeding: each table's b-tree and its indexes' pages (page size " +
    `${db.pageSize} B, ${count(db.pageCount)} pages, ${count(db.free)} free), divided by ` +
    "the table's rows. Pages are counted whole, so free space left in them by inserts in " +
    "random key order (UUIDs) is included, as it would be in production. Tables with fewer " +
    "than 1,000 rows are left out.",
  "",
  "| table | rows | table | indexes | bytes per row (with indexes) | payload per row |",
  "|---|--:|--:|--:|--:|--:|",
);
const perRow = {};
for (const [name, t] of Object.entries(db.tables).sort((a, b) =>
  (b[1].table + b[1].indexes) - (a[1].table + a[1].indexes))) {
  // Too few rows to tell their bytes from the pages they sit in.
  if (t.rows < 1000) continue;
  perRow[name] = (t.table + t.indexes) / t.rows;
  add(`| ${name} | ${count(t.rows)} | ${mb(t.table)} | ${mb(t.indexes)} | ` +
    `${count(perRow[name])} | ${count(t.payload / t.rows)} |`);
}
add("");

// What an organization of M members takes, rows as seeded: fixed rows per organization, and
// per member a membership, a user, a team membership, a grant, 3 audit entries, 0.15
// invitations (M/20 pending, M/10 accepted), 0.3 usage events and 0.1 usage counters.
const b = (name) => perRow[name] ?? 0;
const small = b("orgs") + b("roles") + b("teams") + 2 * (b("resources") + b("team_grants"));
const large = b("orgs") + b("roles") + 10 * b("teams") + 100 * (b("resources") + b("team_grants"));
const member = b("memberships") + b("users") + b("team_members") + b("grants") +
  3 * b("audit_log") + 0.15 * b("invitations") + 0.3 * b("usage_events") +
  0.1 * b("usage_by_member");
const bare = b("memberships") + b("users");
const D1 = 10e9;
const kb = (x) => (x >= 2 ** 20 ? mb(x) : `${(x / 1024).toFixed(1)} KiB`);
add(
  "## What fits in one D1 database (10 GB)",
  "",
  "From the bytes per row above, as seeded: a member costs a membership, a user, a team",
  "membership, a grant of their own, 3 audit entries, 0.15 invitations, 0.3 usage events",
  `and 0.1 usage counters: ${count(member)} B (a bare member, membership and user only: ` +
    `${count(bare)} B). An organization costs its row, a custom role, a team and two ` +
    `resources granted to it: ${count(small)} B; with 10 teams and 100 resources, ` +
    `${count(large)} B. 10 GB taken as 10^10 bytes.`,
  "",
  "| members per organization | bytes per organization | organizations in 10 GB | members in 10 GB |",
  "|--:|--:|--:|--:|",
);
for (const m of [5, 25, 100, 1000, 10_000, 100_000]) {
  const per = (m >= 100 ? large : small) + m * member;
  add(`| ${count(m)} | ${kb(per)} | ${count(D1 / per)} | ${count((D1 / per) * m)} |`);
}
add(
  "",
  "Organizations of 100 members or more are counted with 10 teams and 100 resources, smaller",
  "ones with one team and two. Audit entries accumulate for the retention (`RETENTION_DAYS`,",
  "400): an organization that records more than three changes per member in that time costs",
  "more, at the audit row's bytes each.",
  "",
);
writeFileSync(data("per-row.json"), JSON.stringify(perRow, null, 1));
writeFileSync(env("BENCH_GROWTH"), lines.join("\n"));
process.stdout.write(`\n${lines.join("\n")}`);
process.exit(failed ? 1 : 0);
