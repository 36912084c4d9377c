-- Pending invitations, kept as a counter on the organization like its members
-- (0010_member_count.sql): billing and usage report them on every read, and counting them
-- walked every pending invitation of the organization. The triggers keep the counter in
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
