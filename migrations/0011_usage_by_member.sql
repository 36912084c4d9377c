-- Credits used per member and period, kept by a trigger in the transaction of each usage
-- event, so that `GET …/usage` pages through who used most without summing every event of
-- the period on each request.
CREATE TABLE usage_by_member (
  org_id       TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  user_id      TEXT NOT NULL,
  used         INTEGER NOT NULL CHECK (used >= 0),
  PRIMARY KEY (org_id, period_start, user_id)
);
-- A period's members, most used first.
CREATE INDEX usage_by_member_ranked ON usage_by_member (org_id, period_start, used DESC, user_id);

INSERT INTO usage_by_member (org_id, period_start, user_id, used)
  SELECT org_id, period_start, user_id, sum(amount) FROM usage_events
   WHERE user_id IS NOT NULL
   GROUP BY org_id, period_start, user_id;

CREATE TRIGGER usage_events_counted AFTER INSERT ON usage_events
WHEN NEW.user_id IS NOT NULL
BEGIN
  INSERT INTO usage_by_member (org_id, period_start, user_id, used)
  VALUES (NEW.org_id, NEW.period_start, NEW.user_id, NEW.amount)
  ON CONFLICT (org_id, period_start, user_id) DO UPDATE SET used = used + excluded.used;
END;
