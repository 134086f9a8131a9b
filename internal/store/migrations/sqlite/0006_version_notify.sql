-- PostgreSQL's migration 0006 adds a trigger that announces secret version
-- changes to other Steward processes. SQLite keeps no cache of versions
-- (every read goes to the file), so there is nothing to announce; this
-- step keeps the two schemas' version numbers in step.
SELECT 1;
