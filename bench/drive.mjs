#!/usr/bin/env node
// Runs the benchmark's scenarios against servers bench/run.sh has started, and writes the
// report: for each scenario one sample request (its status and `Server-Timing`), a wrk
// warm-up, then the measured wrk run; plus the wasm sizes and the micro-benchmarks.
// A Roster scenario whose endpoint this build does not have (absent from /openapi.json, or
// answered "No such path") is reported as skipped.
//
// Environment (set by bench/run.sh): BENCH_RUN_DIR (the data of bench/seed.mjs),
// BENCH_HELLO_URL, BENCH_D1_URL, BENCH_ROSTER_URL, BENCH_THREADS, BENCH_CONNECTIONS,
// BENCH_DURATION and BENCH_WARMUP (seconds), BENCH_CRITERION_DIR, BENCH_RESULTS (the file
// to write). Exits 1 when a scenario failed (the report is written all the same).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  command, documents, loadAverage, ms, npmVersion, root, say, send, serverTiming,
  sessionCpuMicros, settings,
} from "./driving.mjs";

const { env, runDir, urls, sessions, load } = settings("bench/run.sh");
const seed = JSON.parse(readFileSync(join(runDir, "seed.json"), "utf8"));
const data = (name) => join(runDir, name);
const memberJwt = readFileSync(data("member.jwt"), "utf8").trim();
const authorizeJwt = readFileSync(data("authorize.jwt"), "utf8").trim();
const authorizeBody = readFileSync(data("authorize.json"), "utf8").trim();
const firstToken = readFileSync(data("preview.tokens"), "utf8").split("\n")[0];
const [probeToken, probeJwt] = readFileSync(data("accept-probe.pair"), "utf8").trim().split(" ");
const org = `/v1/orgs/${seed.slug}`;
const membersPage = `${org}/members?limit=50`;

function oneQuery(name) {
  return {
    name, server: "d1", method: "GET", path: "/items/item-0042", roundTrips: 1, floor: true,
  };
}

// What each scenario sends. `route` is the endpoint as /openapi.json lists it; `tokens`
// and `pairs` fill `{token}` per request (see bench/load.lua); `probe` is the sample request.
const scenarios = [
  { name: "baseline: hello world", server: "hello", method: "GET", path: "/", roundTrips: 0 },
  oneQuery("baseline: one D1 SELECT"),
  {
    name: "baseline: one D1 SELECT in a session", server: "d1", method: "GET",
    path: "/session/items/item-0042", roundTrips: 1,
  },
  { name: "GET /health", server: "roster", route: "/health", method: "GET", path: "/health" },
  {
    name: "GET /v1/orgs/{slug}", server: "roster", route: "/v1/orgs/{slug}", method: "GET",
    path: org, jwt: memberJwt, authenticatedRead: true,
  },
  {
    name: "GET /v1/orgs/{slug}/members?limit=50", server: "roster",
    route: "/v1/orgs/{slug}/members", method: "GET", path: membersPage,
    jwt: memberJwt, authenticatedRead: true, page: true,
  },
  {
    name: "baseline: the members page's text, read in a session", server: "d1", method: "GET",
    path: "/session/texts/members-page", roundTrips: 1, pageFloor: true,
    // The text is the very page Roster answered for the scenario before.
    prepare: async () => {
      const page = await send(urls.roster + membersPage, {
        headers: { authorization: `Bearer ${memberJwt}` },
      });
      const stored = await send(`${urls.d1}/session/texts/members-page`, {
        method: "PUT",
        headers: { "content-length": String(Buffer.byteLength(page.text)) },
        body: page.text,
      });
      if (page.status !== 200 || stored.status !== 204) {
        throw new Error(`storing the members page: ${page.status}, then ${stored.status}`);
      }
      return Buffer.byteLength(page.text);
    },
  },
  {
    name: "POST /v1/orgs/{slug}/authorize", server: "roster", route: "/v1/orgs/{slug}/authorize",
    method: "POST", path: `${org}/authorize`, body: authorizeBody, jwt: authorizeJwt,
    authenticatedRead: true,
  },
  {
    name: "GET /v1/invitations/{token}", server: "roster", route: "/v1/invitations/{token}",
    method: "GET", path: "/v1/invitations/{token}", tokens: data("preview.tokens"),
    probe: { token: firstToken },
  },
  {
    name: "POST /v1/invitations/{token}/accept", server: "roster",
    route: "/v1/invitations/{token}/accept", method: "POST",
    path: "/v1/invitations/{token}/accept", pairs: data("accept.pairs"),
    warmupPairs: data("accept-warmup.pairs"), probe: { token: probeToken, jwt: probeJwt },
    accept: true,
  },
  // Measured again last: how far the floor moved while Roster was measured.
  oneQuery("baseline: one D1 SELECT, again"),
];

/** The sample request: its status, problem code and Server-Timing metrics. */
async function probe(scenario) {
  const token = scenario.probe?.token;
  const jwt = scenario.probe?.jwt ?? scenario.jwt;
  const headers = { "content-length": String(Buffer.byteLength(scenario.body ?? "")) };
  if (jwt) headers.authorization = `Bearer ${jwt}`;
  if (scenario.body) headers["content-type"] = "application/json";
  const response = await send(urls[scenario.server] + scenario.path.replace("{token}", token), {
    method: scenario.method,
    headers,
    body: scenario.body,
  });
  let problem = {};
  try {
    problem = JSON.parse(response.text);
  } catch {
    // Not JSON: a baseline's text answer.
  }
  return {
    status: response.status,
    code: problem?.code,
    detail: problem?.detail,
    timing: serverTiming(response.headers["server-timing"]),
  };
}

/** One wrk run; the numbers of its `done()` line. */
function wrk(scenario, seconds, pairs) {
  const args = [
    "-t", String(load.threads), "-c", String(load.connections), "-d", `${seconds}s`,
    "--timeout", "10s", "-s", join(root, "bench/load.lua"), urls[scenario.server],
  ];
  const cpuBefore = sessionCpuMicros(sessions[scenario.server]);
  const run = spawnSync("wrk", args, {
    encoding: "utf8",
    env: {
      ...process.env,
      BENCH_METHOD: scenario.method,
      BENCH_PATH: scenario.path,
      BENCH_BODY: scenario.body ?? "",
      BENCH_JWT: scenario.jwt ?? "",
      BENCH_TOKENS: scenario.tokens ?? "",
      BENCH_PAIRS: pairs ?? "",
      BENCH_THREADS: String(load.threads),
    },
  });
  const line = run.stdout?.split("\n").find((l) => l.startsWith("BENCH "));
  if (run.status !== 0 || !line) {
    throw new Error(`wrk failed (${run.status}): ${run.stderr || run.stdout}`);
  }
  const cpu = sessionCpuMicros(sessions[scenario.server]) - cpuBefore;
  const numbers = JSON.parse(line.slice("BENCH ".length));
  return {
    ...numbers,
    rps: numbers.requests / (numbers.duration_us / 1e6),
    cpuPerRequest: cpu / numbers.requests,
  };
}

async function runScenario(scenario, documented) {
  if (scenario.route && !documented(scenario.route, scenario.method)) {
    return { scenario, skipped: "endpoint not available (not in /openapi.json)" };
  }
  const bytes = await scenario.prepare?.();
  const sample = await probe(scenario);
  if (sample.status === 404 && sample.detail?.startsWith("No such path")) {
    return { scenario, skipped: "endpoint not available (No such path)" };
  }
  if (sample.status < 200 || sample.status > 299) {
    const why = [sample.code, sample.detail].filter(Boolean).join(": ");
    const answer = `${sample.status}${why ? ` ${why}` : ""}`;
    return { scenario, failed: `sample request answered ${answer}` };
  }
  wrk(scenario, load.warmup, scenario.warmupPairs ?? scenario.pairs);
  const measured = wrk(scenario, load.duration, scenario.pairs);
  const roundTrips = scenario.roundTrips ?? sample.timing.d1;
  return { scenario, sample, measured, roundTrips, bytes };
}

function wasmSize(path) {
  const bytes = readFileSync(path);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Criterion's estimates for each benchmark: the slope (or mean) with its 95% interval. */
function microBenchmarks(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => existsSync(join(dir, entry.name, "new/estimates.json")))
    .map((entry) => {
      const read = (file) => JSON.parse(readFileSync(join(dir, entry.name, "new", file), "utf8"));
      const estimates = read("estimates.json");
      const estimate = estimates.slope ?? estimates.mean;
      return {
        id: read("benchmark.json").full_id,
        ns: estimate.point_estimate,
        low: estimate.confidence_interval.lower_bound,
        high: estimate.confidence_interval.upper_bound,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

const lockedVersion = (name) => {
  const lock = readFileSync(join(root, "Cargo.lock"), "utf8");
  return lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`))?.[1] ?? "?";
};

const count = (n) => n.toLocaleString("en-US");
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const duration = (ns) => {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
};

function report(results, sizes, micro, started, load1) {
  // The one-query baseline: the mean of its runs, first and last.
  const floors = results.filter((r) => r.scenario.floor && r.measured);
  const baseline = floors.length
    ? floors.reduce((sum, r) => sum + r.measured.rps, 0) / floors.length
    : undefined;
  const share = (rps) => (baseline ? (100 * rps) / baseline : NaN);
  // The same by the server's CPU time per request: the baseline's over the scenario's.
  const baselineCpu = floors.length
    ? floors.reduce((sum, r) => sum + r.measured.cpuPerRequest, 0) / floors.length
    : undefined;
  const cpuShare = (micros) => (baselineCpu ? (100 * baselineCpu) / micros : NaN);
  const cpu = cpus();
  const lines = [];
  const add = (...l) => lines.push(...l);
  const notMeasured = (r) => `not measured (${r?.skipped ? "skipped" : "failed"})`;
  const verdict = (ok) => (ok ? "met" : "missed");

  add(
    "# Roster benchmark",
    "",
    "Roster's cost per request next to the platform's floor, measured in one run of",
    "`sh bench/run.sh` (see the README's Benchmark section). Every Worker is built the same",
    "way (`worker-build --release --no-opt`, opt-level \"s\", LTO, one codegen unit) and served",
    "as `wrangler dev` serves it on local D1 and KV, so the numbers compare Roster with the",
    "floor on this machine; they are not production capacity. wrk and the servers share the",
    "CPUs.",
    "",
    `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")}`,
    `- Machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}, ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}`,
    `- Load average (1 min): ${load1.before} before the scenarios, ${load1.after} after ` +
      "(the run's own load included)",
    `- Rust: ${command("rustc", "--version")}; worker ${lockedVersion("worker")}, ` +
      `wasm-bindgen ${lockedVersion("wasm-bindgen")}, ` +
      `worker-build ${command("worker-build", "--version")}, ` +
      `criterion ${lockedVersion("criterion")}`,
    `- Platform: wrangler ${npmVersion("wrangler")}, workerd ${npmVersion("workerd")}, ` +
      `Node.js ${process.version}`,
    `- Load: ${command("wrk", "-v").replace(/ Copyright.*/, "")}, ` +
      `\`wrk -t${load.threads} -c${load.connections} -d${load.duration}s --timeout 10s ` +
      "-s bench/load.lua\` per scenario, one scenario at a time, each after a " +
      `${load.warmup} s warm-up with the same requests`,
    "- Servers: `bench/serve.mjs`, wrangler's `unstable_startWorker` in local mode with log",
    "  level warn (no log line per request) and without the DevTools inspector, whose relay",
    "  `wrangler dev` always attaches and which costs more CPU per request than the one-query",
    "  baseline itself; each on fresh persisted state; Roster with an HS256 secret, issuer and",
    "  audience of the run",
    `- Data: one organization (\`${seed.slug}\`, business plan, ${count(seed.seats)} seats) ` +
      `with ${count(seed.members)} members in ${seed.teams} teams, ${count(seed.pending)} ` +
      `pending invitations, ${seed.resources} resources (each granted to a team, and one to ` +
      "every member), " +
      `plus ${count(seed.accept_pool + seed.warmup_pool + 1)} pending invitations for accept ` +
      `(${count(seed.accept_pool)} measured, ${count(seed.warmup_pool)} warm-up, 1 sample); ` +
      "the one-query baseline reads one of 1,000 rows by primary key",
    "",
    "## Requests",
    "",
    "- baseline: hello world — `GET /`, a fixed text, no storage",
    "- baseline: one D1 SELECT — `GET /items/item-0042`:",
    "  `SELECT id, name, created_at FROM items WHERE id = ?1`, the row as JSON",
    "- baseline: one D1 SELECT in a session — `GET /session/items/item-0042`: the same",
    "  query in a D1 session starting at the nearest copy (`first-unconstrained`), its",
    "  bookmark in the answer, as every Roster read now runs",
    "- baseline: the members page's text, read in a session — `GET",
    "  /session/texts/members-page`: the page Roster answered for the scenario before, stored",
    "  in the baseline's D1 and read back as it is by primary key: the floor for an answer of",
    "  its size, with nothing to authenticate or build",
    `- Roster's reads — as one member (role \`${seed.caller_role}\`), with an HS256 JWT the`,
    "  run minted",
    `- \`authorize\` — as a holder of the custom role \`${seed.custom_role}\` (cap \`write\`), ` +
      "asking for `usage.consume` and `write` on a resource their team holds `admin` on",
    `- invitation preview — no auth, cycling through the ${count(seed.pending)} pending`,
    "  invitations' tokens",
    "- invitation accept — every request a fresh token with the JWT of the user it invites",
    "  (a new user, whose row the request creates), each used once",
    "",
    "## Results",
    "",
    "| scenario | req/s | p50 | p99 | vs one-query baseline | server CPU per request | " +
      "vs baseline by CPU | D1 round trips | non-2xx |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const r of results) {
    const name = r.scenario.name;
    if (r.skipped) add(`| ${name} | skipped: ${r.skipped} | | | | | | | |`);
    else if (r.failed) add(`| ${name} | failed: ${r.failed} | | | | | | | |`);
    else {
      const m = r.measured;
      const others = Object.entries(r.sample.timing).filter(([k]) => k !== "d1");
      const trips = `${r.roundTrips ?? "?"}${others.map(([k, v]) => `, ${k} ${v}`).join("")}`;
      const ranOut = m.exhausted_threads ? " (ran out of tokens)" : "";
      const errors = `${m.non_2xx + m.socket_errors}${ranOut}`;
      const ratio = baseline ? `${share(m.rps).toFixed(0)} %` : "n/a";
      const cpuRatio = baselineCpu ? `${cpuShare(m.cpuPerRequest).toFixed(0)} %` : "n/a";
      add(
        `| ${name} | ${m.rps.toFixed(0)} | ${ms(m.p50_us)} ms | ${ms(m.p99_us)} ms | ${ratio} | ` +
          `${(m.cpuPerRequest / 1000).toFixed(2)} ms | ${cpuRatio} | ${trips} | ${errors} |`,
      );
    }
  }
  const [first, last] = floors.map((r) => share(r.measured.rps));
  const moved = floors.length === 2 ? last - first : NaN;
  const drift = Number.isNaN(moved)
    ? ""
    : ` From the first run to the last it moved ${moved >= 0 ? "+" : ""}${moved.toFixed(0)} ` +
      "percentage points: a measure of how steady the machine was.";
  add(
    "",
    "\"vs one-query baseline\" divides by the mean of the baseline's two runs, first and last." +
      drift,
    "Server CPU per request: the CPU time (user and system) of the server's processes during",
    "the measured run — wrangler, its proxy, and the runtime running the Worker with local D1",
    "— over the requests wrk counted; \"vs baseline by CPU\" divides the one-query baseline's",
    "(the mean of its two runs) by it. It moves far less from run to run than req/s, which",
    "also depends on how wrk and the servers share the CPUs.",
    "D1 round trips: Roster's `Server-Timing` on the sample request (the baselines: by",
    "construction). non-2xx: answers outside 2xx plus socket errors in the measured run.",
    "",
    "## Worker sizes",
    "",
    "| Worker | wasm | gzip -9 |",
    "|---|--:|--:|",
    ...sizes.map((s) => `| ${s.name} | ${kib(s.raw)} | ${kib(s.gzip)} |`),
    "",
    "## Targets",
    "",
    "Reported, not asserted.",
    "",
  );
  for (const r of results.filter((r) => r.scenario.authenticatedRead)) {
    const name = `\`${r.scenario.name}\``;
    if (!r.measured) {
      add(`- ${name}: one D1 round trip, ≥ 80 % of the one-query baseline — ${notMeasured(r)}`);
      continue;
    }
    const pct = share(r.measured.rps);
    add(
      `- ${name}: one D1 round trip — ${verdict(r.roundTrips === 1)} (${r.roundTrips}); ` +
        `≥ 80 % of the one-query baseline — ${verdict(pct >= 80)} (${pct.toFixed(0)} %)`,
    );
  }
  const accept = results.find((r) => r.scenario.accept);
  if (accept?.measured) {
    const kv = accept.sample.timing.kv;
    add(
      `- accept: ≤ 2 D1 round trips — ${verdict(accept.roundTrips <= 2)} ` +
        `(${accept.roundTrips}); ≤ 1 KV read — ` +
        (kv === undefined ? "not reported in `Server-Timing`" : `${verdict(kv <= 1)} (${kv})`),
    );
  } else {
    add(`- accept: ≤ 2 D1 round trips, ≤ 1 KV read — ${notMeasured(accept)}`);
  }
  const page = results.find((r) => r.scenario.page);
  const pageFloor = results.find((r) => r.scenario.pageFloor);
  if (page?.measured && pageFloor?.measured) {
    const p = page.measured;
    const f = pageFloor.measured;
    add(
      `- For scale: the members page's text (${count(pageFloor.bytes)} B), read ready-made, ` +
        `is at ${share(f.rps).toFixed(0)} % of the one-query baseline ` +
        `(${cpuShare(f.cpuPerRequest).toFixed(0)} % by CPU); the members page is at ` +
        `${((100 * p.rps) / f.rps).toFixed(0)} % of that floor ` +
        `(${((100 * f.cpuPerRequest) / p.cpuPerRequest).toFixed(0)} % by CPU)`,
    );
  }
  const roster = sizes.find((s) => s.name === "Roster");
  add(
    `- Roster's wasm ≤ 1 MiB gzip — ${verdict(roster.gzip <= 2 ** 20)} (${kib(roster.gzip)})`,
    "",
    "## Micro-benchmarks",
    "",
    "`cargo bench --bench hot_paths` (benches/hot_paths.rs), run before the servers start:",
    "native code at the release profile, so it ranks the costs of the hot paths rather than",
    "predicting their wasm timings.",
    "",
  );
  if (micro.length === 0) add("Not run.");
  else {
    add("| benchmark | time | 95 % interval |", "|---|--:|--:|");
    for (const m of micro) {
      add(`| ${m.id} | ${duration(m.ns)} | ${duration(m.low)} – ${duration(m.high)} |`);
    }
  }
  add(
    "",
    "- `routes/resolve_*`: `routes::resolve` of an organization's path and of a member's,",
    "  held against every route",
    "- `jwt/hs256`, `jwt/eddsa_jwks`: `JwtVerifier::verify` of a typical token; the JWKS",
    "  holds two Ed25519 keys and the token names its key",
    "- `policy/authorize_*`: `domain::policy::authorize` for a member, allowed and refused",
    "  (a refusal also writes its message)",
    "- `policy/custom_role_*`: a custom role's holder handing out another custom role (the",
    "  permission, then the check that it is within the holder's own), and `decide` for that",
    "  holder on a resource (floor, grant and cap)",
    "- `problem/*_body`: `Problem::body()` rendered to a string, without and with field errors",
  );
  return lines.join("\n") + "\n";
}

const started = new Date();
const load1 = { before: loadAverage() };
const openapi = JSON.parse((await send(`${urls.roster}/openapi.json`)).text);
const documented = (route, method) => documents(openapi, route, method);
const results = [];
for (const scenario of scenarios) {
  let result;
  try {
    result = await runScenario(scenario, documented);
  } catch (error) {
    result = { scenario, failed: String(error.message ?? error).split("\n")[0] };
  }
  results.push(result);
  say(
    `${scenario.name}: ` +
      (result.measured
        ? `${result.measured.rps.toFixed(0)} req/s`
        : result.skipped
          ? `skipped, ${result.skipped}`
          : `FAILED, ${result.failed}`),
  );
}
load1.after = loadAverage();
const baselineWasm = (name) => join(root, "bench/out/baselines", name, "index_bg.wasm");
const sizes = [
  { name: "Roster", ...wasmSize(join(root, "build/index_bg.wasm")) },
  { name: "baseline: hello world", ...wasmSize(baselineWasm("hello")) },
  { name: "baseline: one D1 SELECT", ...wasmSize(baselineWasm("d1")) },
];
const text = report(results, sizes, microBenchmarks(env("BENCH_CRITERION_DIR")), started, load1);
writeFileSync(env("BENCH_RESULTS"), text);
process.stdout.write(`\n${text}`);
process.exit(results.some((r) => r.failed) ? 1 : 0);
