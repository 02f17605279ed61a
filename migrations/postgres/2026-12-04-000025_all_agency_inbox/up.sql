-- The inbox of every agency (administrators') in its order, so that a page read by cursor starts
-- where the cursor is, however deep (the inbox of one agency has `dossiers_inbox`).
CREATE INDEX dossiers_all_inbox ON dossiers (due_date, submitted_at, id) WHERE status <> 'draft';
-- Dossiers without a due date (not received yet) come last in an inbox, by submission: their own
-- indexes let a cursor's page start where the cursor is there too.
CREATE INDEX dossiers_all_inbox_undated ON dossiers (submitted_at, id) WHERE status <> 'draft' AND due_date IS NULL;
CREATE INDEX dossiers_inbox_undated ON dossiers (agency_id, submitted_at, id) WHERE status <> 'draft' AND due_date IS NULL;
