DROP INDEX dossiers_inbox_undated;
DROP INDEX dossiers_all_inbox_undated;
DROP INDEX dossiers_all_inbox;
