CREATE FUNCTION take_dossier_code_number(p_prefix text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO dossier_code_counters (prefix, last_number) VALUES (p_prefix, 1)
    ON CONFLICT (prefix) DO UPDATE SET last_number = dossier_code_counters.last_number + 1
    RETURNING last_number INTO n;
    RETURN n;
END
$$;
DROP FUNCTION take_dossier_code_numbers(text, integer);
