-- Every change to a list's dossiers, or to their attachments and payments, is counted too, in the
-- transaction that makes it: the sum of a list's `changes` over its shares is the list's version,
-- which moves whenever what the list shows may have changed. Servers keep rendered pages of a list
-- under its version, so that a page is served again only while nothing in the list changed.
ALTER TABLE dossier_counts ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;

-- Shares are locked in one order (kind, key) by every statement, so that two transactions that
-- share a shard never wait on each other in a cycle.
CREATE OR REPLACE FUNCTION dossier_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_counts AS c (kind, key, shard, n, changes)
    SELECT kind, key, pg_backend_pid() % 16, CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END, count(*) FROM (
        SELECT 'applicant' AS kind, applicant_id AS key FROM changed WHERE applicant_id IS NOT NULL
        UNION ALL
        SELECT 'inbox', agency_id FROM changed WHERE status <> 'draft'
    ) s GROUP BY kind, key ORDER BY kind, key
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = c.n + excluded.n, changes = c.changes + excluded.changes;
    RETURN NULL;
END
$$;

-- Any change of a dossier changes the lists it leaves, joins or stays in; a submitted draft joins
-- its agency's inbox, a dossier that changes hands or agency moves. The dossiers one statement
-- changes (a batch of moves) are counted together.
CREATE FUNCTION dossier_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_counts AS c (kind, key, shard, n, changes)
    SELECT kind, key, pg_backend_pid() % 16, sum(dn), count(*) FROM (
        SELECT 'applicant' AS kind, applicant_id AS key, -1 AS dn FROM old_rows WHERE applicant_id IS NOT NULL
        UNION ALL
        SELECT 'applicant', applicant_id, 1 FROM new_rows WHERE applicant_id IS NOT NULL
        UNION ALL
        SELECT 'inbox', agency_id, -1 FROM old_rows WHERE status <> 'draft'
        UNION ALL
        SELECT 'inbox', agency_id, 1 FROM new_rows WHERE status <> 'draft'
    ) s GROUP BY kind, key ORDER BY kind, key
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = c.n + excluded.n, changes = c.changes + excluded.changes;
    RETURN NULL;
END
$$;

DROP TRIGGER dossiers_counts_moved ON dossiers;
DROP FUNCTION dossier_counts_moved();
DROP FUNCTION dossier_count_add(text, text, bigint);
CREATE TRIGGER dossiers_counts_updated AFTER UPDATE ON dossiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_counts_updated();

-- Attachments and payments show in the lists too.
CREATE FUNCTION dossier_lists_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_counts AS c (kind, key, shard, n, changes)
    SELECT v.kind, v.key, pg_backend_pid() % 16, 0, 1 FROM dossiers d
    CROSS JOIN LATERAL (VALUES ('applicant', d.applicant_id),
                               ('inbox', CASE WHEN d.status <> 'draft' THEN d.agency_id END)) AS v (kind, key)
    WHERE d.id = CASE TG_OP WHEN 'DELETE' THEN OLD.dossier_id ELSE NEW.dossier_id END AND v.key IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = c.changes + 1;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER dossier_attachments_lists AFTER INSERT OR UPDATE OR DELETE ON dossier_attachments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dossier_lists_touched();
CREATE CONSTRAINT TRIGGER payments_lists AFTER INSERT OR UPDATE OR DELETE ON payments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dossier_lists_touched();
