-- An applicant's dossiers, newest first with the id as tie-breaker: a page is read straight from
-- the index, without sorting all of the applicant's dossiers.
DROP INDEX dossiers_applicant;
CREATE INDEX dossiers_applicant ON dossiers (applicant_id, created_at, id);
