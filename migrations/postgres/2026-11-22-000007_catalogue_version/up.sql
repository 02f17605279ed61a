-- A counter every change to the catalogue (and to the holiday calendar) moves, so that each server's cache of catalogue answers
-- knows when to drop them.
CREATE TABLE catalogue_version (
    id INTEGER PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 1);
CREATE FUNCTION catalogue_bump() RETURNS trigger AS $$
BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER procedures_bump AFTER INSERT OR UPDATE OR DELETE ON procedures FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER procedure_agencies_bump AFTER INSERT OR UPDATE OR DELETE ON procedure_agencies FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER agencies_bump AFTER INSERT OR UPDATE OR DELETE ON agencies FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER fields_bump AFTER INSERT OR UPDATE OR DELETE ON fields FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
CREATE TRIGGER holidays_bump AFTER INSERT OR UPDATE OR DELETE ON holidays FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
