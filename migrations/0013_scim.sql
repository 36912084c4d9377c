-- SCIM 2.0 provisioning: an organization's identity provider manages its members.

-- Bearer tokens of `/scim/v2`, one organization each; only sha256(secret) is kept.
CREATE TABLE scim_tokens (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  org_id       TEXT NOT NULL REFERENCES orgs (id),
  name         TEXT NOT NULL,
  secret_hash  TEXT NOT NULL UNIQUE,
  created_by   TEXT,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX scim_tokens_by_org ON scim_tokens (org_id, seq);

-- A member's SCIM attributes. `scim_id` is the id the identity provider was given for a
-- member it provisioned (the user id it was created under, kept when the membership moves
-- to the person's own user on their first sign-in); other members are known by their user
-- id. `suspended_at`: `active: false` — no access, seat and grants kept.
ALTER TABLE memberships ADD COLUMN scim_id TEXT;
ALTER TABLE memberships ADD COLUMN external_id TEXT;
ALTER TABLE memberships ADD COLUMN given_name TEXT;
ALTER TABLE memberships ADD COLUMN family_name TEXT;
ALTER TABLE memberships ADD COLUMN display_name TEXT;
ALTER TABLE memberships ADD COLUMN suspended_at INTEGER;
CREATE UNIQUE INDEX memberships_by_scim_id ON memberships (org_id, coalesce(scim_id, user_id));
CREATE UNIQUE INDEX memberships_by_external_id ON memberships (org_id, external_id)
  WHERE external_id IS NOT NULL;

-- A Group's external id (Groups are teams).
ALTER TABLE teams ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX teams_by_external_id ON teams (org_id, external_id)
  WHERE external_id IS NOT NULL;

-- A user created by provisioning, before anyone has signed in as them: known only by the
-- email the identity provider gave. The first request whose token carries that email,
-- verified, moves their memberships to the signed-in user and deletes this row.
ALTER TABLE users ADD COLUMN provisioned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_provisioned_by_email ON users (email) WHERE provisioned = 1;

-- Changes made through a SCIM token are recorded with the actor `scim_token`: the audit log
-- is rebuilt with the wider CHECK, its rows and indexes as they were.
CREATE TABLE audit_log_new (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,              -- also the webhook event id
  org_id      TEXT NOT NULL,
  at          INTEGER NOT NULL,
  actor_type  TEXT NOT NULL CHECK (actor_type IN ('user', 'api_key', 'scim_token', 'system')),
  actor_id    TEXT,
  action      TEXT NOT NULL,
  target_type TEXT,
  target_id   TEXT,
  data        TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO audit_log_new (seq, id, org_id, at, actor_type, actor_id, action, target_type,
                           target_id, data)
  SELECT seq, id, org_id, at, actor_type, actor_id, action, target_type, target_id, data
    FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_by_org ON audit_log (org_id, seq);
CREATE INDEX audit_by_time ON audit_log (at);
