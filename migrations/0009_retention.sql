-- What grows without bound is deleted by the scheduled job once older than its retention;
-- these indexes find the oldest rows without reading the rest.
CREATE INDEX audit_by_time ON audit_log (at);
CREATE INDEX usage_by_time ON usage_events (created_at);
CREATE INDEX outbox_settled ON outbox (done_at) WHERE status <> 'pending';
CREATE INDEX invitations_ended ON invitations (ended_at) WHERE status <> 'pending';
