DROP INDEX dossiers_inbox;
