-- SQLite takes several code numbers at once with an upsert of the counter row
-- (persistence::dossiers::take_code_numbers); its schema does not change.
SELECT 1;
