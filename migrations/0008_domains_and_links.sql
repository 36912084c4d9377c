-- Verified domains, join requests and invite links: people join an organization without an
-- email from an admin.

-- How each membership came about. Rows from before are the creators (no invitation) and
-- those who accepted an invitation.
ALTER TABLE memberships ADD COLUMN joined_via TEXT NOT NULL DEFAULT 'invitation'
  CHECK (joined_via IN ('created', 'invitation', 'invite_link', 'domain', 'join_request', 'scim'));
UPDATE memberships SET joined_via = 'created' WHERE invitation_id IS NULL;

-- The email domains invitations and invite links are limited to; `[]`: any.
ALTER TABLE orgs ADD COLUMN allowed_email_domains TEXT NOT NULL DEFAULT '[]';

CREATE TABLE domains (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  org_id          TEXT NOT NULL REFERENCES orgs (id),
  domain          TEXT NOT NULL,                -- lower-cased, IDNA (xn--) form
  status          TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
  -- The TXT record's value the organization publishes at `_roster-challenge.<domain>`.
  challenge       TEXT NOT NULL,
  enrollment      TEXT NOT NULL DEFAULT 'off' CHECK (enrollment IN ('off', 'request', 'auto_join')),
  role            TEXT NOT NULL DEFAULT 'member' CHECK (role NOT IN ('owner', 'admin')),
  teams           TEXT NOT NULL DEFAULT '[]',   -- ids of the teams joined, a JSON array
  verified_at     INTEGER,
  last_checked_at INTEGER,
  -- Since when the record of a verified domain has been missing (NULL: it was found).
  missing_since   INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (org_id, domain)
);
-- A domain is verified by one organization at most.
CREATE UNIQUE INDEX domains_one_verified ON domains (domain) WHERE status = 'verified';
CREATE INDEX domains_by_org ON domains (org_id, seq);
-- The scheduled job's re-checks, oldest check first.
CREATE INDEX domains_due ON domains (last_checked_at) WHERE status IN ('pending', 'verified');

CREATE TABLE join_requests (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  org_id     TEXT NOT NULL REFERENCES orgs (id),
  user_id    TEXT NOT NULL,
  email      TEXT NOT NULL,
  name       TEXT,
  status     TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  decided_by TEXT
);
-- One pending request per user and organization.
CREATE UNIQUE INDEX join_requests_one_pending ON join_requests (org_id, user_id)
  WHERE status = 'pending';
CREATE INDEX join_requests_by_org ON join_requests (org_id, status, seq);
CREATE INDEX join_requests_by_user ON join_requests (user_id);

CREATE TABLE invite_links (
  seq                INTEGER PRIMARY KEY,
  id                 TEXT NOT NULL UNIQUE,
  org_id             TEXT NOT NULL REFERENCES orgs (id),
  token_hash         TEXT NOT NULL UNIQUE,      -- sha256(token); the token is only in `url`
  role               TEXT NOT NULL CHECK (role <> 'owner' AND length(role) BETWEEN 3 AND 32),
  teams              TEXT NOT NULL DEFAULT '[]', -- ids of the teams joined, a JSON array
  max_uses           INTEGER CHECK (max_uses BETWEEN 1 AND 10000),
  uses               INTEGER NOT NULL DEFAULT 0 CHECK (max_uses IS NULL OR uses <= max_uses),
  expires_at         INTEGER NOT NULL,
  allowed_domains    TEXT NOT NULL DEFAULT '[]',
  created_by_user_id TEXT,
  created_by_name    TEXT,
  created_at         INTEGER NOT NULL,
  revoked_at         INTEGER
);
CREATE INDEX invite_links_by_org ON invite_links (org_id, seq);

-- Guards raise more codes. The table never holds a row (see 0001).
DROP TABLE guard;
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
  CONSTRAINT seats_in_use CHECK (code <> 'seats_in_use'),
  CONSTRAINT idempotency_key_reused CHECK (code <> 'idempotency_key_reused'),
  CONSTRAINT insufficient_credits CHECK (code <> 'insufficient_credits'),
  CONSTRAINT email_mismatch CHECK (code <> 'email_mismatch'),
  CONSTRAINT email_not_verified CHECK (code <> 'email_not_verified'),
  CONSTRAINT invitation_expired CHECK (code <> 'invitation_expired'),
  CONSTRAINT invitation_canceled CHECK (code <> 'invitation_canceled'),
  CONSTRAINT invitation_already_used CHECK (code <> 'invitation_already_used'),
  CONSTRAINT rate_limited CHECK (code <> 'rate_limited'),
  CONSTRAINT role_key_taken CHECK (code <> 'role_key_taken'),
  CONSTRAINT role_builtin CHECK (code <> 'role_builtin'),
  CONSTRAINT role_in_use CHECK (code <> 'role_in_use'),
  CONSTRAINT limit_reached CHECK (code <> 'limit_reached'),
  CONSTRAINT domain_taken CHECK (code <> 'domain_taken'),
  CONSTRAINT domain_not_verified CHECK (code <> 'domain_not_verified'),
  CONSTRAINT email_domain_not_allowed CHECK (code <> 'email_domain_not_allowed'),
  CONSTRAINT invite_link_expired CHECK (code <> 'invite_link_expired'),
  CONSTRAINT invite_link_revoked CHECK (code <> 'invite_link_revoked'),
  CONSTRAINT invite_link_exhausted CHECK (code <> 'invite_link_exhausted'),
  CONSTRAINT guard_code_known CHECK (0)
);
