-- A dossier never submitted, received or finished (a draft) adds nothing to the rollups: every
-- row of `dossier_day_rows` needs one of those times, and the running and due counts need the
-- submission. The trigger passes only the other dossiers to `dossier_rollups_apply`, and calls it
-- only when there are some: a batch of new drafts pays nothing, and a batch of submissions passes
-- no rows from before (they were drafts).

CREATE OR REPLACE FUNCTION dossier_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone dossiers[] := '{}';
    came dossiers[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM dossier_rollups_apply(ARRAY[OLD], '{}');
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        gone := ARRAY(SELECT ROW(r.*)::dossiers FROM old_rows r
                      WHERE r.submitted_at IS NOT NULL OR r.received_at IS NOT NULL OR r.finished_at IS NOT NULL);
    END IF;
    came := ARRAY(SELECT ROW(r.*)::dossiers FROM new_rows r
                  WHERE r.submitted_at IS NOT NULL OR r.received_at IS NOT NULL OR r.finished_at IS NOT NULL);
    IF cardinality(gone) > 0 OR cardinality(came) > 0 THEN
        PERFORM dossier_rollups_apply(gone, came);
    END IF;
    RETURN NULL;
END
$$;
