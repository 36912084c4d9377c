-- Billing: one more code a guard can raise. `seats_in_use` refuses lowering extra seats
-- below the seats members occupy. The `guard` table never holds a row (see 0001), so it is
-- recreated with every constraint it had and the new one.

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
  CONSTRAINT guard_code_known CHECK (0)
);
