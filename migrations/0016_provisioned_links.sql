-- Linking a member the identity provider provisioned (SCIM) to the person who signs in with
-- its email, verified: every request with such a token asks for it, and almost none finds
-- anything to do. The request adds one row here only when a provisioned user has that
-- email (a lookup along `users_provisioned_by_email`); the trigger moves the provisioned
-- memberships, their teams and grants to the signed-in user (a membership of an
-- organization they already belong to stays where it is), drops the provisioned user once
-- it belongs nowhere, and the row, all in the request's transaction. The table never keeps
-- a row.
CREATE TABLE provisioned_links (
  user_id TEXT NOT NULL,
  email   TEXT NOT NULL
);

CREATE TRIGGER provisioned_links_move AFTER INSERT ON provisioned_links
BEGIN
  UPDATE team_members SET user_id = NEW.user_id
   WHERE (org_id, user_id) IN
         (SELECT m.org_id, m.user_id FROM users u JOIN memberships m ON m.user_id = u.id
           WHERE u.provisioned = 1 AND u.email = NEW.email
             AND NOT EXISTS (SELECT 1 FROM memberships x
                              WHERE x.org_id = m.org_id AND x.user_id = NEW.user_id));
  UPDATE grants SET user_id = NEW.user_id
   WHERE (org_id, user_id) IN
         (SELECT m.org_id, m.user_id FROM users u JOIN memberships m ON m.user_id = u.id
           WHERE u.provisioned = 1 AND u.email = NEW.email
             AND NOT EXISTS (SELECT 1 FROM memberships x
                              WHERE x.org_id = m.org_id AND x.user_id = NEW.user_id));
  UPDATE memberships SET user_id = NEW.user_id
   WHERE user_id IN (SELECT id FROM users WHERE provisioned = 1 AND email = NEW.email)
     AND NOT EXISTS (SELECT 1 FROM memberships x
                      WHERE x.org_id = memberships.org_id AND x.user_id = NEW.user_id);
  DELETE FROM users
   WHERE provisioned = 1 AND email = NEW.email
     AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id);
  DELETE FROM provisioned_links WHERE rowid = NEW.rowid;
END;
