DROP TRIGGER payments_lists ON payments;
DROP TRIGGER dossier_attachments_lists ON dossier_attachments;
DROP FUNCTION dossier_lists_touched();
DROP TRIGGER dossiers_counts_updated ON dossiers;
DROP FUNCTION dossier_counts_updated();

CREATE FUNCTION dossier_count_add(p_kind text, p_key text, p_delta bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dossier_counts AS c (kind, key, shard, n) VALUES (p_kind, p_key, pg_backend_pid() % 16, p_delta)
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = c.n + excluded.n;
$$;

CREATE OR REPLACE FUNCTION dossier_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE CONSTRAINT TRIGGER dossiers_counts_moved AFTER UPDATE OF applicant_id, agency_id, status ON dossiers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.applicant_id IS DISTINCT FROM NEW.applicant_id OR OLD.agency_id IS DISTINCT FROM NEW.agency_id
          OR (OLD.status = 'draft') <> (NEW.status = 'draft'))
    EXECUTE FUNCTION dossier_counts_moved();

ALTER TABLE dossier_counts DROP COLUMN changes;
