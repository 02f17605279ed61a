CREATE INDEX dossiers_all_inbox_undated ON dossiers (submitted_at, id) WHERE status <> 'draft' AND due_date IS NULL;
CREATE INDEX dossiers_inbox_undated ON dossiers (agency_id, submitted_at, id) WHERE status <> 'draft' AND due_date IS NULL;
