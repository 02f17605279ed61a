-- A counter every change to the catalogue (and to the holiday calendar) moves, so that each server's cache of catalogue answers
-- knows when to drop them.
CREATE TABLE catalogue_version (
    id INTEGER PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 1);
CREATE TRIGGER procedures_bump_insert AFTER INSERT ON procedures BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER procedures_bump_update AFTER UPDATE ON procedures BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER procedures_bump_delete AFTER DELETE ON procedures BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER procedure_agencies_bump_insert AFTER INSERT ON procedure_agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER procedure_agencies_bump_update AFTER UPDATE ON procedure_agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER procedure_agencies_bump_delete AFTER DELETE ON procedure_agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agencies_bump_insert AFTER INSERT ON agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agencies_bump_update AFTER UPDATE ON agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agencies_bump_delete AFTER DELETE ON agencies BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER fields_bump_insert AFTER INSERT ON fields BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER fields_bump_update AFTER UPDATE ON fields BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER fields_bump_delete AFTER DELETE ON fields BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER holidays_bump_insert AFTER INSERT ON holidays BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER holidays_bump_update AFTER UPDATE ON holidays BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER holidays_bump_delete AFTER DELETE ON holidays BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END;
