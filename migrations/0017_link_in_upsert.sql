-- Linking a member the identity provider provisioned (0016) rides on the user upsert that
-- opens every request, instead of a statement of its own beside it: the upsert writes the
-- user's row whenever a provisioned user has the token's email, verified (a lookup along
-- `users_provisioned_by_email` that finds nothing almost always), and these triggers then
-- add the `provisioned_links` row whose trigger moves the memberships. A request so sends
-- one statement for both. Provisioned users themselves never link.
CREATE TRIGGER users_link_provisioned_on_insert AFTER INSERT ON users
  WHEN NEW.provisioned = 0 AND NEW.email_verified = 1
   AND EXISTS (SELECT 1 FROM users p WHERE p.provisioned = 1 AND p.email = NEW.email)
BEGIN
  INSERT INTO provisioned_links (user_id, email) VALUES (NEW.id, NEW.email);
END;

CREATE TRIGGER users_link_provisioned_on_update AFTER UPDATE ON users
  WHEN NEW.provisioned = 0 AND NEW.email_verified = 1
   AND EXISTS (SELECT 1 FROM users p WHERE p.provisioned = 1 AND p.email = NEW.email)
BEGIN
  INSERT INTO provisioned_links (user_id, email) VALUES (NEW.id, NEW.email);
END;
