-- Lists page in creation order. Members: without this index, every page of a large
-- organization sorted all its memberships first.
CREATE INDEX memberships_by_org ON memberships (org_id, seq);

-- Likewise for invitations listed across statuses (`expired` and `all`); a single status
-- is read along invitations_by_org.
CREATE INDEX invitations_by_org_seq ON invitations (org_id, seq);
