#!/usr/bin/env node
// Mints an HS256 JWT for local development, signed with JWT_HS256_SECRET from .dev.vars.
// Usage: node scripts/token.mjs <user-id> [email] [name]
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

const vars = Object.fromEntries(
  readFileSync(new URL("../.dev.vars", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.includes("="))
    .map((line) => [line.slice(0, line.indexOf("=")).trim(), line.slice(line.indexOf("=") + 1).trim().replace(/^"|"$/g, "")]),
);
const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
const tomlVar = (name) => toml.match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m"))?.[1];

const [sub = "user_dev", email = `${sub}@example.com`, name = sub] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const payload = {
  sub, email, email_verified: true, name,
  iss: tomlVar("JWT_ISSUER"), aud: tomlVar("JWT_AUDIENCE"),
  iat: now, exp: now + 24 * 3600,
};
const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}`;
const signature = createHmac("sha256", vars.JWT_HS256_SECRET).update(unsigned).digest("base64url");
console.log(`${unsigned}.${signature}`);
