-- The inbox of every agency (administrators') in its order, so that a page read by cursor starts
-- where the cursor is, however deep (the inbox of one agency has `dossiers_inbox`).
CREATE INDEX dossiers_all_inbox ON dossiers (due_date, submitted_at, id) WHERE status <> 'draft';
