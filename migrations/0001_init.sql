-- Roster's schema: every table the contract needs.
--
-- Times are Unix seconds (INTEGER). Public ids are UUID strings; `seq` (the rowid) gives
-- each row its creation order, which list cursors point into. Levels are stored as
-- numbers (read 1, write 2, admin 3) so that SQL can compare and cap them.

CREATE TABLE users (
  id             TEXT PRIMARY KEY,            -- the JWT `sub`
  email          TEXT,                        -- trimmed, lower-cased
  email_verified INTEGER NOT NULL DEFAULT 0,
  name           TEXT,
  created_at     INTEGER NOT NULL,
  last_active_at INTEGER NOT NULL
);
CREATE INDEX users_by_email ON users (email);

CREATE TABLE orgs (
  seq              INTEGER PRIMARY KEY,
  id               TEXT NOT NULL UNIQUE,
  slug             TEXT NOT NULL,
  name             TEXT NOT NULL,
  logo_url         TEXT,
  plan             TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'business')),
  extra_seats      INTEGER NOT NULL DEFAULT 0 CHECK (extra_seats >= 0),
  -- A decrease of extra seats, applied when the next period starts.
  extra_seats_next INTEGER CHECK (extra_seats_next >= 0),
  period_anchor    INTEGER NOT NULL,           -- periods are calendar months from here
  period_start     INTEGER NOT NULL,
  period_end       INTEGER NOT NULL,
  credits_used     INTEGER NOT NULL DEFAULT 0 CHECK (credits_used >= 0),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  deleted_at       INTEGER
);
-- A deleted organization frees its slug.
CREATE UNIQUE INDEX orgs_live_slug ON orgs (slug) WHERE deleted_at IS NULL;
CREATE INDEX orgs_period_end ON orgs (period_end) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
  seq           INTEGER PRIMARY KEY,
  org_id        TEXT NOT NULL REFERENCES orgs (id),
  user_id       TEXT NOT NULL REFERENCES users (id),
  role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  invitation_id TEXT,                          -- the invitation that created it, if any
  joined_at     INTEGER NOT NULL,
  UNIQUE (org_id, user_id)
);
-- Exactly one owner per organization (at most one here; creation inserts the first).
CREATE UNIQUE INDEX memberships_one_owner ON memberships (org_id) WHERE role = 'owner';
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE invitations (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  org_id          TEXT NOT NULL REFERENCES orgs (id),
  email           TEXT NOT NULL,
  role            TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  grants          TEXT NOT NULL DEFAULT '[]',  -- [{"resource_id", "level"}] applied on accept
  status          TEXT NOT NULL
                  CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'canceled')),
  token_hash      TEXT NOT NULL UNIQUE,        -- sha256(token); the token is only in the email
  inviter_user_id TEXT,
  inviter_key_id  TEXT,
  inviter_name    TEXT,
  inviter_email   TEXT,
  email_delivery  TEXT NOT NULL CHECK (email_delivery IN ('sent', 'queued', 'failed', 'logged')),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  resent_at       INTEGER,
  accepted_at     INTEGER,
  responded_by    TEXT,                        -- the user who accepted or declined
  ended_at        INTEGER                      -- when it left `pending`
);
-- One pending invitation per address and organization.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email) WHERE status = 'pending';
CREATE INDEX invitations_by_org ON invitations (org_id, status, seq);
CREATE INDEX invitations_pending_by_email ON invitations (email) WHERE status = 'pending';
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';

CREATE TABLE resources (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  org_id     TEXT NOT NULL REFERENCES orgs (id),
  name       TEXT NOT NULL,
  kind       TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX resources_by_org ON resources (org_id, seq);

CREATE TABLE grants (
  org_id      TEXT NOT NULL,
  resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (resource_id, user_id)
);
CREATE INDEX grants_by_member ON grants (org_id, user_id);

CREATE TABLE usage_events (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  org_id          TEXT NOT NULL REFERENCES orgs (id),
  user_id         TEXT,
  amount          INTEGER NOT NULL CHECK (amount > 0),
  feature         TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash    TEXT NOT NULL,               -- sha256 of the request, to spot a reused key
  remaining       INTEGER NOT NULL,            -- the answer given, replayed for the same key
  period_start    INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  UNIQUE (org_id, idempotency_key)
);
CREATE INDEX usage_by_period ON usage_events (org_id, period_start, user_id);

CREATE TABLE ledger (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  org_id       TEXT NOT NULL REFERENCES orgs (id),
  at           INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  quantity     INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL,
  description  TEXT NOT NULL
);
CREATE INDEX ledger_by_org ON ledger (org_id, seq);

CREATE TABLE api_keys (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  org_id       TEXT NOT NULL REFERENCES orgs (id),
  name         TEXT NOT NULL,
  scopes       TEXT NOT NULL,                  -- JSON array of scope names
  prefix       TEXT NOT NULL,                  -- the first characters, to tell keys apart
  secret_hash  TEXT NOT NULL UNIQUE,           -- sha256(secret); the secret is shown once
  created_by   TEXT,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, seq);

CREATE TABLE webhooks (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  org_id          TEXT NOT NULL REFERENCES orgs (id),
  url             TEXT NOT NULL,
  events          TEXT NOT NULL,               -- JSON array of event types
  secret          TEXT NOT NULL,               -- kept: every delivery is signed with it
  created_at      INTEGER NOT NULL,
  failure_count   INTEGER NOT NULL DEFAULT 0,  -- consecutive failed deliveries
  disabled_at     INTEGER,
  disabled_reason TEXT,
  deleted_at      INTEGER
);
CREATE INDEX webhooks_by_org ON webhooks (org_id, seq);

CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,              -- also the webhook event id
  org_id      TEXT NOT NULL,
  at          INTEGER NOT NULL,
  actor_type  TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
  actor_id    TEXT,
  action      TEXT NOT NULL,
  target_type TEXT,
  target_id   TEXT,
  data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_org ON audit_log (org_id, seq);

-- Work to do after a change commits: emails and webhook deliveries, retried with backoff.
CREATE TABLE outbox (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
  org_id          TEXT NOT NULL,
  subject_id      TEXT NOT NULL,               -- the invitation (email) or webhook endpoint
  event_id        TEXT,                        -- the audit entry a webhook delivers
  payload         TEXT NOT NULL DEFAULT '{}',  -- never a token or a secret
  status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'dropped')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  locked_until    INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  done_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_subject ON outbox (subject_id, status);

-- Never holds a row. Guards insert the contract code of a violated condition here, and the
-- constraint of that name aborts the batch (see src/store/mod.rs). Because the table is
-- always empty, a later migration may drop and recreate it with more codes.
CREATE TABLE guard (
  code TEXT NOT NULL,
  CONSTRAINT not_found CHECK (code <> 'not_found'),
  CONSTRAINT forbidden CHECK (code <> 'forbidden'),
  CONSTRAINT conflict CHECK (code <> 'conflict'),
  CONSTRAINT slug_taken CHECK (code <> 'slug_taken'),
  CONSTRAINT owner_protected CHECK (code <> 'owner_protected'),
  CONSTRAINT already_member CHECK (code <> 'already_member'),
  CONSTRAINT invitation_pending CHECK (code <> 'invitation_pending'),
  CONSTRAINT role_not_available CHECK (code <> 'role_not_available'),
  CONSTRAINT seat_limit_reached CHECK (code <> 'seat_limit_reached'),
  CONSTRAINT grant_exceeds_role CHECK (code <> 'grant_exceeds_role'),
  CONSTRAINT plan_downgrade_blocked CHECK (code <> 'plan_downgrade_blocked'),
  CONSTRAINT extra_seats_not_available CHECK (code <> 'extra_seats_not_available'),
  CONSTRAINT idempotency_key_reused CHECK (code <> 'idempotency_key_reused'),
  CONSTRAINT insufficient_credits CHECK (code <> 'insufficient_credits'),
  CONSTRAINT email_mismatch CHECK (code <> 'email_mismatch'),
  CONSTRAINT email_not_verified CHECK (code <> 'email_not_verified'),
  CONSTRAINT invitation_expired CHECK (code <> 'invitation_expired'),
  CONSTRAINT invitation_canceled CHECK (code <> 'invitation_canceled'),
  CONSTRAINT invitation_already_used CHECK (code <> 'invitation_already_used'),
  CONSTRAINT rate_limited CHECK (code <> 'rate_limited'),
  CONSTRAINT guard_code_known CHECK (0)
);
