DROP TRIGGER dossiers_counts_moved_inbox;
DROP TRIGGER dossiers_counts_moved_applicant;
DROP TRIGGER dossiers_counts_removed;
DROP TRIGGER dossiers_counts_added;
DROP TABLE dossier_counts;
