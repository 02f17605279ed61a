DROP INDEX dossiers_all_inbox;
