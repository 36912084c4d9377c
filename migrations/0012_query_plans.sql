-- Indexes that let the scheduled job's reads search instead of reading whole tables (the
-- native test `store::plans` plans every statement of the store against this schema).

-- Domains due for a check: every pending one, and verified ones never checked or not
-- checked since the cutoff, each found by a search on status and time of the last check.
CREATE INDEX domains_by_status ON domains (status, last_checked_at);

-- Webhook deliveries claimed by the events a request queued: the pending rows of those
-- events, not every pending row.
CREATE INDEX outbox_pending_by_event ON outbox (event_id) WHERE status = 'pending';
