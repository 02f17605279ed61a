-- SQLite plans a statement in microseconds: tracking runs its query directly (see
-- persistence::dossiers::tracking); this migration keeps the two backends' histories in step.
SELECT 1;
