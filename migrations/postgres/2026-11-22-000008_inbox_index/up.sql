-- The officers' inbox: an agency's dossiers past the draft stage, nearest due date first (the
-- count of the inbox reads the same index).
CREATE INDEX dossiers_inbox ON dossiers (agency_id, due_date, submitted_at, id) WHERE status <> 'draft';
