DROP TRIGGER payments_lists_removed;
DROP TRIGGER payments_lists_changed;
DROP TRIGGER payments_lists_added;
DROP TRIGGER dossier_attachments_lists_removed;
DROP TRIGGER dossier_attachments_lists_changed;
DROP TRIGGER dossier_attachments_lists_added;
DROP TRIGGER dossiers_counts_updated;
DROP TRIGGER dossiers_counts_removed;
DROP TRIGGER dossiers_counts_added;

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

ALTER TABLE dossier_counts DROP COLUMN changes;
