-- Every change to a secret version notifies the channel steward_secret_versions
-- with the identity as payload, in the changing transaction: PostgreSQL
-- delivers it only if and when that transaction commits. Each Steward
-- process listens on the channel and drops its cached rows of the identity.
-- A trigger, rather than the statements that write, also covers writes by
-- other Steward versions and by hand; TRUNCATE sends an empty payload,
-- which means every identity.
CREATE FUNCTION steward_notify_secret_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		PERFORM pg_notify('steward_secret_versions', '');
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('steward_secret_versions', OLD.identity);
	ELSE
		PERFORM pg_notify('steward_secret_versions', NEW.identity);
		IF TG_OP = 'UPDATE' AND OLD.identity <> NEW.identity THEN
			PERFORM pg_notify('steward_secret_versions', OLD.identity);
		END IF;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER secret_versions_notify AFTER INSERT OR UPDATE OR DELETE ON secret_versions
	FOR EACH ROW EXECUTE FUNCTION steward_notify_secret_version();
CREATE TRIGGER secret_versions_notify_truncate AFTER TRUNCATE ON secret_versions
	FOR EACH STATEMENT EXECUTE FUNCTION steward_notify_secret_version();
