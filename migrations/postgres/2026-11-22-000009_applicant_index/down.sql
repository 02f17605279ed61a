DROP INDEX dossiers_applicant;
CREATE INDEX dossiers_applicant ON dossiers (applicant_id, created_at);
