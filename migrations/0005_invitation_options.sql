-- Invitation options: how long an invitation lasts (kept so a resend lasts as long again;
-- NULL for those made before, which use INVITE_TTL_SECONDS), where the landing page's
-- button leads, the language of its email and page, and whether Roster sends the email.
ALTER TABLE invitations ADD COLUMN expires_in INTEGER;
ALTER TABLE invitations ADD COLUMN redirect_url TEXT;
ALTER TABLE invitations ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
ALTER TABLE invitations ADD COLUMN send_email INTEGER NOT NULL DEFAULT 1;
