DROP FUNCTION dossier_tracking(text);
