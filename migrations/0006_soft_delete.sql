-- Deletion that can be undone: a deleted organization keeps every row until `purge_at`,
-- when the scheduled job purges it. Rows deleted before this migration (whose members,
-- grants and keys were already destroyed) have no `purge_at` and are purged at the job's
-- next run.
ALTER TABLE orgs ADD COLUMN purge_at INTEGER;

-- The slug of a deleted organization stays reserved until it is purged, so the index that
-- made slugs unique among live organizations only is replaced by one that also covers those
-- waiting for their purge. Rows deleted before this migration (no `purge_at`) reserve
-- nothing, as before, so the new index cannot collide with a slug taken since.
DROP INDEX orgs_live_slug;
CREATE UNIQUE INDEX orgs_reserved_slug ON orgs (slug)
  WHERE deleted_at IS NULL OR purge_at IS NOT NULL;

-- The job's purge finds due organizations along this index.
CREATE INDEX orgs_purge_due ON orgs (purge_at) WHERE deleted_at IS NOT NULL;

-- The purge deletes a tenant's outbox rows a bounded number at a time, found by organization.
CREATE INDEX outbox_by_org ON outbox (org_id);
