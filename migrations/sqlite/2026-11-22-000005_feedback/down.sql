DROP INDEX dossiers_finished;
DROP INDEX dossiers_received;
DROP INDEX dossiers_agency_finished;
DROP INDEX dossiers_agency_received;
ALTER TABLE dossiers DROP COLUMN fee_vnd;
DROP TABLE ratings;
DROP TABLE feedback_events;
DROP TABLE feedback;
