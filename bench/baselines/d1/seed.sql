-- The one-query baseline's data: 1,000 rows, read one at a time by primary key; and
-- the texts the driver stores to be read back as they are (Roster's members page).
CREATE TABLE items (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
INSERT INTO items (id, name, created_at)
SELECT printf('item-%04d', i), printf('Item %04d', i), 1767225600 FROM n;

CREATE TABLE texts (
  id   TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
