-- The product's own data on organizations, memberships and invitations: JSON objects,
-- `metadata` readable by every member, `private_metadata` only by those who manage the
-- organization or its members. An invitation's metadata becomes the membership's.
ALTER TABLE orgs ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE orgs ADD COLUMN private_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE memberships ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE memberships ADD COLUMN private_metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE invitations ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
