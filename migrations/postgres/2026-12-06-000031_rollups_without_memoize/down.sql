ALTER FUNCTION dossier_rollups_apply(dossiers[], dossiers[]) RESET enable_memoize;
