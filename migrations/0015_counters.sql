-- Counts that reads report, kept as counters like an organization's members
-- (0010_member_count.sql) instead of counted from every row on each read.
--
-- Pending invitations, on the organization: billing and usage report them on every read,
-- and counting them walked every pending invitation of the organization. The triggers keep the counter in
-- the same transaction as the invitation's change of status, whatever statement makes it.
-- Invitations past their expiry that the scheduled job has not marked yet are still
-- `pending` here; readers subtract them along the index below, which holds only those of
-- one organization and is kept short by the job.
ALTER TABLE orgs ADD COLUMN pending_invitations_count INTEGER NOT NULL DEFAULT 0
  CHECK (pending_invitations_count >= 0);
UPDATE orgs SET pending_invitations_count =
  (SELECT count(*) FROM invitations i WHERE i.org_id = orgs.id AND i.status = 'pending');

CREATE TRIGGER invitations_pending_in AFTER INSERT ON invitations
WHEN NEW.status = 'pending'
BEGIN
  UPDATE orgs SET pending_invitations_count = pending_invitations_count + 1
   WHERE id = NEW.org_id;
END;

CREATE TRIGGER invitations_pending_changed AFTER UPDATE OF status ON invitations
WHEN (OLD.status = 'pending') <> (NEW.status = 'pending')
BEGIN
  UPDATE orgs
     SET pending_invitations_count = pending_invitations_count
                                     + (CASE WHEN NEW.status = 'pending' THEN 1 ELSE -1 END)
   WHERE id = NEW.org_id;
END;

CREATE TRIGGER invitations_pending_out AFTER DELETE ON invitations
WHEN OLD.status = 'pending'
BEGIN
  UPDATE orgs SET pending_invitations_count = pending_invitations_count - 1
   WHERE id = OLD.org_id;
END;

CREATE INDEX invitations_pending_expiry_by_org ON invitations (org_id, expires_at)
  WHERE status = 'pending';

-- A team's members, on the team: the teams list and a team's read report them.
ALTER TABLE teams ADD COLUMN members_count INTEGER NOT NULL DEFAULT 0
  CHECK (members_count >= 0);
UPDATE teams SET members_count =
  (SELECT count(*) FROM team_members tm WHERE tm.team_id = teams.id);

CREATE TRIGGER team_members_counted_in AFTER INSERT ON team_members
BEGIN
  UPDATE teams SET members_count = members_count + 1 WHERE id = NEW.team_id;
END;

CREATE TRIGGER team_members_counted_out AFTER DELETE ON team_members
BEGIN
  UPDATE teams SET members_count = members_count - 1 WHERE id = OLD.team_id;
END;

-- Members per role, for each organization: the roles list reports them.
CREATE TABLE role_counts (
  org_id TEXT NOT NULL,
  role   TEXT NOT NULL,
  n      INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (org_id, role)
) WITHOUT ROWID;
INSERT INTO role_counts (org_id, role, n)
  SELECT org_id, role, count(*) FROM memberships GROUP BY org_id, role;

CREATE TRIGGER memberships_role_counted_in AFTER INSERT ON memberships
BEGIN
  INSERT INTO role_counts (org_id, role, n) VALUES (NEW.org_id, NEW.role, 1)
    ON CONFLICT (org_id, role) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER memberships_role_counted_out AFTER DELETE ON memberships
BEGIN
  UPDATE role_counts SET n = n - 1 WHERE org_id = OLD.org_id AND role = OLD.role;
END;

CREATE TRIGGER memberships_role_counted_moved AFTER UPDATE OF role ON memberships
WHEN OLD.role <> NEW.role
BEGIN
  UPDATE role_counts SET n = n - 1 WHERE org_id = OLD.org_id AND role = OLD.role;
  INSERT INTO role_counts (org_id, role, n) VALUES (NEW.org_id, NEW.role, 1)
    ON CONFLICT (org_id, role) DO UPDATE SET n = n + 1;
END;
