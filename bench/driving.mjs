// What both benchmark drivers share (bench/drive.mjs, bench/growth-drive.mjs): the run's
// settings from the environment, one HTTP request, `Server-Timing` read back, the tools'
// versions, the machine's load, the CPU time a server has used, and whether /openapi.json
// documents a route.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

/** The run's settings, which `script` (the shell script that starts the servers) sets. */
export function settings(script) {
  const env = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set; run ${script}`);
    return value;
  };
  return {
    env,
    runDir: env("BENCH_RUN_DIR"),
    urls: {
      hello: env("BENCH_HELLO_URL"),
      d1: env("BENCH_D1_URL"),
      roster: env("BENCH_ROSTER_URL"),
    },
    // The session of each server's processes (wrangler and its workerd), see bench/lib.sh.
    sessions: {
      hello: Number(env("BENCH_HELLO_SESSION")),
      d1: Number(env("BENCH_D1_SESSION")),
      roster: Number(env("BENCH_ROSTER_SESSION")),
    },
    load: {
      threads: Number(env("BENCH_THREADS")),
      connections: Number(env("BENCH_CONNECTIONS")),
      duration: Number(env("BENCH_DURATION")),
      warmup: Number(env("BENCH_WARMUP")),
    },
  };
}

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));

/**
 * The CPU time, in µs, that the live processes of session `sid` have used (user and system):
 * one server's wrangler, its proxy and the runtime that runs the Worker and local D1.
 */
export function sessionCpuMicros(sid) {
  let ticks = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone since the listing
    }
    // After the command's name in parentheses: state, ppid, pgrp, session, … utime, stime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[3]) === sid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / clockTicks;
}

export const say = (text) => process.stderr.write(`bench: ${text}\n`);

/** `Server-Timing: d1;desc="2 round trips", kv;desc="1 read"` → `{d1: 2, kv: 1}`. */
export function serverTiming(header) {
  const metrics = {};
  for (const entry of (header ?? "").split(",")) {
    const [name, ...params] = entry.trim().split(";");
    const desc = params
      .map((p) => p.trim())
      .find((p) => p.startsWith("desc=") || p.startsWith("dur="));
    const count = desc?.match(/[\d.]+/);
    if (name && count) metrics[name.trim()] = Number(count[0]);
  }
  return metrics;
}

/** One request on a connection of its own: `{status, headers, text}`. */
export function send(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode, headers: response.headers, text }),
      );
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** The first line a command prints (its version, say). */
export const command = (file, ...args) => {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      .split("\n")[0].trim();
  } catch (error) {
    // wrk prints its version on the first line of its usage, and exits 1.
    return `${error.stdout ?? ""}`.split("\n")[0].trim();
  }
};

export const npmVersion = (name) =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

export const ms = (us) => (us / 1000).toFixed(1);

export const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];

/** Whether `openapi` documents `method route` (paths compared by shape, whatever their
 * parameters are called). */
export function documents(openapi, route, method) {
  const shape = (path) => path.replace(/\{[^}]*\}/g, "{}");
  return Object.entries(openapi.paths ?? {}).some(
    ([path, item]) => shape(path) === shape(route) && item[method.toLowerCase()],
  );
}
