-- The PostgreSQL side drops the tracking function; this migration keeps the two backends'
-- histories in step.
SELECT 1;
