-- A dossier has no reception or finishing time until it gets one; the statistics indexes only
-- hold those that have, so creating and submitting a dossier writes four index entries fewer.
DROP INDEX dossiers_finished;
DROP INDEX dossiers_received;
DROP INDEX dossiers_agency_finished;
DROP INDEX dossiers_agency_received;
CREATE INDEX dossiers_agency_received ON dossiers (agency_id, received_at) WHERE received_at IS NOT NULL;
CREATE INDEX dossiers_agency_finished ON dossiers (agency_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX dossiers_received ON dossiers (received_at) WHERE received_at IS NOT NULL;
CREATE INDEX dossiers_finished ON dossiers (finished_at) WHERE finished_at IS NOT NULL;
