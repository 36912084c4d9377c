#!/usr/bin/env node
// Serves one Worker for the benchmark as `wrangler dev` does, without the DevTools
// inspector: `node bench/serve.mjs CONFIG PORT STATE [NAME:value ...]` serves the Worker of
// the wrangler.toml CONFIG on 127.0.0.1:PORT in local mode, its D1 and KV persisted to
// STATE (the layout of `--persist-to`), each NAME:value a var as `--var` gives it.
//
// `wrangler dev` always attaches DevTools to the runtime and relays its events through a
// proxy Worker to wrangler's Node process; with no DevTools client connected, every request
// still costs that relay about 1.8 ms of CPU (measured on the one-query baseline: 2.6 ms a
// request with it, 0.8 ms without), and wrangler's process and the proxy hold on to some
// 25-35 KB more memory for every request served. Both would be the benchmark's, not the
// Worker's, so the benchmark serves through wrangler's API with the inspector off
// (`unstable_startWorker`, the engine of `wrangler dev`).
import { unstable_startWorker } from "wrangler";

const [config, port, persist, ...vars] = process.argv.slice(2);
if (!config || !port || !persist) {
  console.error("usage: node bench/serve.mjs CONFIG PORT STATE [NAME:value ...]");
  process.exit(2);
}
const bindings = Object.fromEntries(
  vars.map((pair) => {
    const colon = pair.indexOf(":");
    return [pair.slice(0, colon), { type: "plain_text", value: pair.slice(colon + 1) }];
  }),
);
const worker = await unstable_startWorker({
  config,
  bindings,
  dev: {
    inspector: false,
    remote: false,
    persist,
    watch: false,
    logLevel: "warn",
    server: { hostname: "127.0.0.1", port: Number(port) },
  },
});
await worker.ready;
console.log(`serving ${config} at ${(await worker.url).href}`);
const stop = async () => {
  await worker.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
