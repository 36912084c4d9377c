-- The console: one-time links into the hosted team pages, and the sessions they open.
-- Both are known only by the SHA-256 of their secret. Each carries the person as their
-- token said when the link was asked for, so that every console request authenticates
-- them as the API does, and the organization the link was for.

-- A link's code: valid for minutes, spent by deleting it (one use, atomically).
CREATE TABLE console_codes (
  code_hash      TEXT PRIMARY KEY,
  org_id         TEXT NOT NULL,
  user_id        TEXT NOT NULL,
  email          TEXT,
  email_verified INTEGER NOT NULL,
  name           TEXT,
  return_url     TEXT,
  expires_at     INTEGER NOT NULL
);
-- Codes past their expiry, for the scheduled job to delete.
CREATE INDEX console_codes_by_expiry ON console_codes (expires_at);

-- A session: it ends a fixed time after it began, or after an idle hour.
CREATE TABLE console_sessions (
  token_hash     TEXT PRIMARY KEY,
  org_id         TEXT NOT NULL,
  user_id        TEXT NOT NULL,
  email          TEXT,
  email_verified INTEGER NOT NULL,
  name           TEXT,
  return_url     TEXT,
  created_at     INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL
);
-- Sessions idle past their end, for the scheduled job to delete.
CREATE INDEX console_sessions_by_last_seen ON console_sessions (last_seen_at);
