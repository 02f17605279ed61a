-- How many dossiers a list holds, kept by the database itself in the transaction that changes
-- them, so that a page's total is a sum of a few rows instead of a count over the whole list:
--   kind 'applicant': every dossier of an applicant (`GET /me/dossiers`);
--   kind 'inbox': every dossier of an agency but drafts (`GET /agency/dossiers`).
-- SQLite writes one transaction at a time, so each list has one share (0).
CREATE TABLE dossier_counts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, key, shard)
);

INSERT INTO dossier_counts (kind, key, shard, n)
SELECT 'applicant', applicant_id, 0, count(*) FROM dossiers WHERE applicant_id IS NOT NULL GROUP BY applicant_id;
INSERT INTO dossier_counts (kind, key, shard, n)
SELECT 'inbox', agency_id, 0, count(*) FROM dossiers WHERE status <> 'draft' GROUP BY agency_id;

CREATE TRIGGER dossiers_counts_added AFTER INSERT ON dossiers
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'applicant', NEW.applicant_id, 0, 1
    WHERE NEW.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1;
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'inbox', NEW.agency_id, 0, 1
    WHERE NEW.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER dossiers_counts_removed AFTER DELETE ON dossiers
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'applicant', OLD.applicant_id, 0, -1
    WHERE OLD.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1;
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'inbox', OLD.agency_id, 0, -1
    WHERE OLD.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1;
END;

-- A submitted draft joins its agency's inbox; a dossier that changes hands or agency moves.
CREATE TRIGGER dossiers_counts_moved_applicant AFTER UPDATE OF applicant_id ON dossiers
    WHEN OLD.applicant_id IS NOT NEW.applicant_id
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'applicant', OLD.applicant_id, 0, -1
    WHERE OLD.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1;
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'applicant', NEW.applicant_id, 0, 1
    WHERE NEW.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER dossiers_counts_moved_inbox AFTER UPDATE OF agency_id, status ON dossiers
    WHEN OLD.agency_id IS NOT NEW.agency_id OR (OLD.status = 'draft') <> (NEW.status = 'draft')
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'inbox', OLD.agency_id, 0, -1
    WHERE OLD.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1;
    INSERT INTO dossier_counts (kind, key, shard, n) SELECT 'inbox', NEW.agency_id, 0, 1
    WHERE NEW.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1;
END;
