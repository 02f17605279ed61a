DROP TRIGGER dossiers_counts_moved ON dossiers;
DROP TRIGGER dossiers_counts_removed ON dossiers;
DROP TRIGGER dossiers_counts_added ON dossiers;
DROP FUNCTION dossier_counts_moved();
DROP FUNCTION dossier_counts_changed();
DROP FUNCTION dossier_count_add(text, text, bigint);
DROP TABLE dossier_counts;
