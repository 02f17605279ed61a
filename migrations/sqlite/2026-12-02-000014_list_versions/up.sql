-- Every change to a list's dossiers, or to their attachments and payments, is counted too, in the
-- transaction that makes it: the sum of a list's `changes` is the list's version, which moves
-- whenever what the list shows may have changed. Servers keep rendered pages of a list under its
-- version, so that a page is served again only while nothing in the list changed.
ALTER TABLE dossier_counts ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;

DROP TRIGGER dossiers_counts_added;
DROP TRIGGER dossiers_counts_removed;
DROP TRIGGER dossiers_counts_moved_applicant;
DROP TRIGGER dossiers_counts_moved_inbox;

CREATE TRIGGER dossiers_counts_added AFTER INSERT ON dossiers
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', NEW.applicant_id, 0, 1, 1
    WHERE NEW.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1, changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', NEW.agency_id, 0, 1, 1
    WHERE NEW.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1, changes = changes + 1;
END;

CREATE TRIGGER dossiers_counts_removed AFTER DELETE ON dossiers
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', OLD.applicant_id, 0, -1, 1
    WHERE OLD.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1, changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', OLD.agency_id, 0, -1, 1
    WHERE OLD.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1, changes = changes + 1;
END;

-- Any change of a dossier changes the lists it leaves, joins or stays in (leaving and joining the
-- same list cancel out in its count): a submitted draft joins its agency's inbox, a dossier that
-- changes hands or agency moves.
CREATE TRIGGER dossiers_counts_updated AFTER UPDATE ON dossiers
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', OLD.applicant_id, 0, -1, 1
    WHERE OLD.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1, changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', NEW.applicant_id, 0, 1, 1
    WHERE NEW.applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1, changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', OLD.agency_id, 0, -1, 1
    WHERE OLD.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n - 1, changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', NEW.agency_id, 0, 1, 1
    WHERE NEW.status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET n = n + 1, changes = changes + 1;
END;

-- Attachments and payments show in the lists too.
CREATE TRIGGER dossier_attachments_lists_added AFTER INSERT ON dossier_attachments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER dossier_attachments_lists_changed AFTER UPDATE ON dossier_attachments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER dossier_attachments_lists_removed AFTER DELETE ON dossier_attachments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = OLD.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = OLD.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER payments_lists_added AFTER INSERT ON payments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER payments_lists_changed AFTER UPDATE ON payments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = NEW.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER payments_lists_removed AFTER DELETE ON payments
BEGIN
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'applicant', applicant_id, 0, 0, 1
    FROM dossiers WHERE id = OLD.dossier_id AND applicant_id IS NOT NULL
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
    INSERT INTO dossier_counts (kind, key, shard, n, changes) SELECT 'inbox', agency_id, 0, 0, 1
    FROM dossiers WHERE id = OLD.dossier_id AND status <> 'draft'
    ON CONFLICT (kind, key, shard) DO UPDATE SET changes = changes + 1;
END;
