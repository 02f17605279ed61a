-- Several numbers of a dossier code prefix at once, for a batch of submissions to one agency on
-- one day; answers the last number taken (the batch has the `p_count` numbers up to it). Run as
-- a transaction of its own, whose commit does not wait for the disk (see migration 12).
CREATE FUNCTION take_dossier_code_numbers(p_prefix text, p_count integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO dossier_code_counters (prefix, last_number) VALUES (p_prefix, p_count)
    ON CONFLICT (prefix) DO UPDATE SET last_number = dossier_code_counters.last_number + p_count
    RETURNING last_number INTO n;
    RETURN n;
END
$$;
DROP FUNCTION take_dossier_code_number(text);
