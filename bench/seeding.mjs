// What both benchmarks' data generators share (bench/seed.mjs, bench/growth-seed.mjs): the
// run's clock and billing period, its JWT secret and tokens for the users it seeds, digests,
// and SQL text in statements D1 accepts.
import { createHash, createHmac, randomBytes } from "node:crypto";

/** The helpers of one run, whose JWTs name `issuer` and `audience`. */
export function seeding(issuer, audience) {
  const now = Math.floor(Date.now() / 1000);
  const periodEnd = (() => {
    const end = new Date(now * 1000);
    end.setUTCMonth(end.getUTCMonth() + 1);
    return Math.floor(end.getTime() / 1000);
  })();
  const secret = randomBytes(32).toString("hex");
  const sqlText = (value) =>
    value === null ? "NULL" : `'${String(value).replaceAll("'", "''")}'`;

  /** An HS256 JWT for a user with a verified email, valid for six hours. */
  function jwt(sub, email, name) {
    const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const payload = {
      sub, email, email_verified: true, name,
      iss: issuer, aud: audience, iat: now, exp: now + 6 * 3600,
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

  return {
    now,
    periodEnd,
    expiresAt: now + 7 * 24 * 3600,
    secret,
    token: () => randomBytes(32).toString("base64url"),
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    sqlText,
    pad: (n, width) => String(n).padStart(width, "0"),
    jwt,
    inserts,
  };
}
