-- How many dossiers a list holds, kept by the database itself in the transaction that changes
-- them, so that a page's total is a sum of a few rows instead of a count over the whole list:
--   kind 'applicant': every dossier of an applicant (`GET /me/dossiers`);
--   kind 'inbox': every dossier of an agency but drafts (`GET /agency/dossiers`).
-- A connection adds to its own share (its backend's process id modulo 16), so that concurrent
-- changes of one list seldom wait on one row's lock.
CREATE TABLE dossier_counts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    shard SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, key, shard)
);

INSERT INTO dossier_counts (kind, key, shard, n)
SELECT 'applicant', applicant_id, 0, count(*) FROM dossiers WHERE applicant_id IS NOT NULL GROUP BY applicant_id;
INSERT INTO dossier_counts (kind, key, shard, n)
SELECT 'inbox', agency_id, 0, count(*) FROM dossiers WHERE status <> 'draft' GROUP BY agency_id;

CREATE FUNCTION dossier_count_add(p_kind text, p_key text, p_delta bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dossier_counts AS c (kind, key, shard, n) VALUES (p_kind, p_key, pg_backend_pid() % 16, p_delta)
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = c.n + excluded.n;
$$;

-- Rows added or removed by one statement are counted together (bulk loads write many at once);
-- both triggers name their transition table `changed`.
CREATE FUNCTION dossier_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_counts AS c (kind, key, shard, n)
    SELECT kind, key, pg_backend_pid() % 16, CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END FROM (
        SELECT 'applicant' AS kind, applicant_id AS key FROM changed WHERE applicant_id IS NOT NULL
        UNION ALL
        SELECT 'inbox', agency_id FROM changed WHERE status <> 'draft'
    ) s GROUP BY kind, key
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

-- A submitted draft joins its agency's inbox; a dossier that changes hands or agency moves.
CREATE FUNCTION dossier_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.applicant_id IS DISTINCT FROM NEW.applicant_id THEN
        IF OLD.applicant_id IS NOT NULL THEN PERFORM dossier_count_add('applicant', OLD.applicant_id, -1); END IF;
        IF NEW.applicant_id IS NOT NULL THEN PERFORM dossier_count_add('applicant', NEW.applicant_id, 1); END IF;
    END IF;
    IF OLD.agency_id IS DISTINCT FROM NEW.agency_id OR (OLD.status = 'draft') <> (NEW.status = 'draft') THEN
        IF OLD.status <> 'draft' THEN PERFORM dossier_count_add('inbox', OLD.agency_id, -1); END IF;
        IF NEW.status <> 'draft' THEN PERFORM dossier_count_add('inbox', NEW.agency_id, 1); END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER dossiers_counts_added AFTER INSERT ON dossiers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dossier_counts_changed();
CREATE TRIGGER dossiers_counts_removed AFTER DELETE ON dossiers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dossier_counts_changed();
-- Run at commit, so that the share's row is locked only while the transaction commits.
CREATE CONSTRAINT TRIGGER dossiers_counts_moved AFTER UPDATE OF applicant_id, agency_id, status ON dossiers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.applicant_id IS DISTINCT FROM NEW.applicant_id OR OLD.agency_id IS DISTINCT FROM NEW.agency_id
          OR (OLD.status = 'draft') <> (NEW.status = 'draft'))
    EXECUTE FUNCTION dossier_counts_moved();
