-- The trigger function as 2026-12-04-000023_statistics_rollups made it: every row passed.

CREATE OR REPLACE FUNCTION dossier_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM dossier_rollups_apply('{}', ARRAY(SELECT ROW(r.*)::dossiers FROM new_rows r));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM dossier_rollups_apply(ARRAY[OLD], '{}');
        RETURN OLD;
    ELSE
        PERFORM dossier_rollups_apply(ARRAY(SELECT ROW(r.*)::dossiers FROM old_rows r), ARRAY(SELECT ROW(r.*)::dossiers FROM new_rows r));
    END IF;
    RETURN NULL;
END
$$;
