DROP INDEX dossiers_finished;
DROP INDEX dossiers_received;
DROP INDEX dossiers_agency_finished;
DROP INDEX dossiers_agency_received;
CREATE INDEX dossiers_agency_received ON dossiers (agency_id, received_at);
CREATE INDEX dossiers_agency_finished ON dossiers (agency_id, finished_at);
CREATE INDEX dossiers_received ON dossiers (received_at);
CREATE INDEX dossiers_finished ON dossiers (finished_at);
