-- Custom roles and teams.
--
-- A membership's or an invitation's `role` now names either a built-in role or one of the
-- organization's custom roles by key. SQLite cannot relax a CHECK constraint in place, so
-- both tables are rebuilt with every row, column and index they had; only the constraint on
-- `role` changes. Existing organizations keep their built-in roles unchanged.

CREATE TABLE memberships_new (
  seq              INTEGER PRIMARY KEY,
  org_id           TEXT NOT NULL REFERENCES orgs (id),
  user_id          TEXT NOT NULL REFERENCES users (id),
  role             TEXT NOT NULL CHECK (length(role) BETWEEN 3 AND 32),
  invitation_id    TEXT,
  joined_at        INTEGER NOT NULL,
  metadata         TEXT NOT NULL DEFAULT '{}',
  private_metadata TEXT NOT NULL DEFAULT '{}',
  UNIQUE (org_id, user_id)
);
INSERT INTO memberships_new (seq, org_id, user_id, role, invitation_id, joined_at, metadata,
                             private_metadata)
  SELECT seq, org_id, user_id, role, invitation_id, joined_at, metadata, private_metadata
    FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE UNIQUE INDEX memberships_one_owner ON memberships (org_id) WHERE role = 'owner';
CREATE INDEX memberships_by_user ON memberships (user_id);
CREATE INDEX memberships_by_org ON memberships (org_id, seq);
-- Counting and reassigning the holders of a role.
CREATE INDEX memberships_by_role ON memberships (org_id, role);

CREATE TABLE invitations_new (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  org_id          TEXT NOT NULL REFERENCES orgs (id),
  email           TEXT NOT NULL,
  role            TEXT NOT NULL CHECK (role <> 'owner' AND length(role) BETWEEN 3 AND 32),
  grants          TEXT NOT NULL DEFAULT '[]',
  status          TEXT NOT NULL
                  CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'canceled')),
  token_hash      TEXT NOT NULL UNIQUE,
  inviter_user_id TEXT,
  inviter_key_id  TEXT,
  inviter_name    TEXT,
  inviter_email   TEXT,
  email_delivery  TEXT NOT NULL CHECK (email_delivery IN ('sent', 'queued', 'failed', 'logged')),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  resent_at       INTEGER,
  accepted_at     INTEGER,
  responded_by    TEXT,
  ended_at        INTEGER,
  metadata        TEXT NOT NULL DEFAULT '{}',
  expires_in      INTEGER,
  redirect_url    TEXT,
  locale          TEXT NOT NULL DEFAULT 'en',
  send_email      INTEGER NOT NULL DEFAULT 1,
  -- The ids of the teams joined on acceptance, a JSON array.
  teams           TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO invitations_new (seq, id, org_id, email, role, grants, status, token_hash,
                             inviter_user_id, inviter_key_id, inviter_name, inviter_email,
                             email_delivery, created_at, expires_at, resent_at, accepted_at,
                             responded_by, ended_at, metadata, expires_in, redirect_url, locale,
                             send_email)
  SELECT seq, id, org_id, email, role, grants, status, token_hash, inviter_user_id,
         inviter_key_id, inviter_name, inviter_email, email_delivery, created_at, expires_at,
         resent_at, accepted_at, responded_by, ended_at, metadata, expires_in, redirect_url,
         locale, send_email
    FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, email) WHERE status = 'pending';
CREATE INDEX invitations_by_org ON invitations (org_id, status, seq);
CREATE INDEX invitations_pending_by_email ON invitations (email) WHERE status = 'pending';
CREATE INDEX invitations_pending_expiry ON invitations (expires_at) WHERE status = 'pending';
CREATE INDEX invitations_by_org_seq ON invitations (org_id, seq);
CREATE INDEX invitations_pending_by_role ON invitations (org_id, role) WHERE status = 'pending';

-- An organization's own roles. `permissions` is a JSON array of permission names; levels are
-- numbers as everywhere (read 1, write 2, admin 3).
CREATE TABLE roles (
  seq            INTEGER PRIMARY KEY,
  org_id         TEXT NOT NULL REFERENCES orgs (id),
  key            TEXT NOT NULL CHECK (key NOT IN ('owner', 'admin', 'member', 'viewer')),
  name           TEXT NOT NULL,
  description    TEXT,
  permissions    TEXT NOT NULL,
  resource_floor INTEGER CHECK (resource_floor BETWEEN 1 AND 3),
  resource_cap   INTEGER NOT NULL CHECK (resource_cap BETWEEN 1 AND 3),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (org_id, key)
);

CREATE TABLE teams (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  org_id     TEXT NOT NULL REFERENCES orgs (id),
  slug       TEXT NOT NULL,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (org_id, slug)
);
CREATE INDEX teams_by_org ON teams (org_id, seq);

CREATE TABLE team_members (
  seq       INTEGER PRIMARY KEY,
  team_id   TEXT NOT NULL REFERENCES teams (id),
  org_id    TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  team_role TEXT NOT NULL CHECK (team_role IN ('maintainer', 'member')),
  added_at  INTEGER NOT NULL,
  UNIQUE (team_id, user_id)
);
CREATE INDEX team_members_by_member ON team_members (org_id, user_id);
CREATE INDEX team_members_by_team ON team_members (team_id, seq);

CREATE TABLE team_grants (
  org_id      TEXT NOT NULL,
  resource_id TEXT NOT NULL REFERENCES resources (id),
  team_id     TEXT NOT NULL REFERENCES teams (id),
  level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (resource_id, team_id)
);
CREATE INDEX team_grants_by_team ON team_grants (team_id);
CREATE INDEX team_grants_by_org ON team_grants (org_id);

-- Guards raise four more codes. The table never holds a row (see 0001).
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
  CONSTRAINT guard_code_known CHECK (0)
);
