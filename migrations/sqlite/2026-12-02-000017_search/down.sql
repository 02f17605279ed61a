DROP TRIGGER search_synonyms_bump_delete;
DROP TRIGGER search_synonyms_bump_update;
DROP TRIGGER search_synonyms_bump_insert;
DROP TABLE search_synonyms;
ALTER TABLE procedures ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE procedures SET search_text = name_folded || ' ' || lower(code);
CREATE VIRTUAL TABLE procedures_fts USING fts5 (procedure_id UNINDEXED, search_text, tokenize = 'trigram');
INSERT INTO procedures_fts (procedure_id, search_text) SELECT id, search_text FROM procedures;
CREATE TRIGGER procedures_fts_insert AFTER INSERT ON procedures BEGIN
    INSERT INTO procedures_fts (procedure_id, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER procedures_fts_delete AFTER DELETE ON procedures BEGIN
    DELETE FROM procedures_fts WHERE procedure_id = old.id;
END;
CREATE TRIGGER procedures_fts_update AFTER UPDATE OF search_text ON procedures BEGIN
    DELETE FROM procedures_fts WHERE procedure_id = old.id;
    INSERT INTO procedures_fts (procedure_id, search_text) VALUES (new.id, new.search_text);
END;
