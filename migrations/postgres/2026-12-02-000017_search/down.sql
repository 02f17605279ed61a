DROP TRIGGER search_synonyms_bump ON search_synonyms;
DROP TABLE search_synonyms;
ALTER TABLE procedures ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE procedures SET search_text = name_folded || ' ' || lower(code);
CREATE INDEX procedures_search_trgm ON procedures USING gin (search_text gin_trgm_ops);
