DROP INDEX dossier_due_agency_level;
