-- A dossier has no reception or finishing time until it gets one; the statistics indexes only
-- hold those that have, so creating and submitting a dossier writes four index entries fewer.
DROP INDEX dossiers_finished;
DROP INDEX dossiers_received;
DROP INDEX dossiers_agency_finished;
DROP INDEX dossiers_agency_received;
CREATE INDEX dossiers_agency_received ON dossiers (agency_id, received_at) WHERE received_at IS NOT NULL;
CREATE INDEX dossiers_agency_finished ON dossiers (agency_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX dossiers_received ON dossiers (received_at) WHERE received_at IS NOT NULL;
CREATE INDEX dossiers_finished ON dossiers (finished_at) WHERE finished_at IS NOT NULL;

-- The next number of a dossier code prefix in one statement, run as a transaction of its own:
-- the commit does not wait for the disk. A crash may lose the increment only if no submission
-- that used the number was committed durably (that commit flushes the log past this one), so a
-- number can be skipped, never handed out twice.
CREATE FUNCTION take_dossier_code_number(p_prefix text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO dossier_code_counters (prefix, last_number) VALUES (p_prefix, 1)
    ON CONFLICT (prefix) DO UPDATE SET last_number = dossier_code_counters.last_number + 1
    RETURNING last_number INTO n;
    RETURN n;
END
$$;
