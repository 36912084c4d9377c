-- Seats used, kept as a counter on the organization instead of counted from every
-- membership on each request (billing reads it, every invite and accept guards it). The
-- triggers keep it in the same transaction as the membership that changes it, whatever
-- statement makes that change.
ALTER TABLE orgs ADD COLUMN members_count INTEGER NOT NULL DEFAULT 0 CHECK (members_count >= 0);
UPDATE orgs SET members_count = (SELECT count(*) FROM memberships m WHERE m.org_id = orgs.id);

CREATE TRIGGER memberships_counted_in AFTER INSERT ON memberships
BEGIN
  UPDATE orgs SET members_count = members_count + 1 WHERE id = NEW.org_id;
END;

CREATE TRIGGER memberships_counted_out AFTER DELETE ON memberships
BEGIN
  UPDATE orgs SET members_count = members_count - 1 WHERE id = OLD.org_id;
END;
