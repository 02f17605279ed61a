DROP TABLE dossier_attachments;
DROP TABLE files;
DROP TABLE dossier_code_counters;
DROP TABLE dossier_events;
DROP TABLE dossiers;
DROP TABLE holidays;
