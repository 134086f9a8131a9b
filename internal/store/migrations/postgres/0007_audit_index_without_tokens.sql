-- The index on (resource, action, seq) serves LastAudit (the latest read of
-- a secret). It covered every record, so each token decision of the broker
-- — one record per grant, the bulk of the log, never looked up by resource —
-- rewrote one index page per identity in every group commit, and SQLite's
-- checkpoints had those pages to copy as well. The index now leaves token
-- decisions out; LastAudit's query carries the same condition, so that both
-- databases use it.
DROP INDEX audit_records_resource;
CREATE INDEX audit_records_resource ON audit_records (resource, action, seq) WHERE action <> 'broker.token';
