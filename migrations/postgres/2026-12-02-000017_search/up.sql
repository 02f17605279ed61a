-- Catalogue search is an index each server builds from the catalogue (the same on both databases):
-- the trigram index and the text it indexed go.
DROP INDEX procedures_search_trgm;
ALTER TABLE procedures DROP COLUMN search_text;

-- What administrators add to the thesaurus the project ships: phrases that mean the same (`same`),
-- a phrase that also finds others (`expands`), and words that carry no meaning in a query (`stop`).
-- A change moves the catalogue's version, so that every server rebuilds its index.
CREATE TABLE search_synonyms (
    position INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('same', 'expands', 'stop')),
    terms TEXT NOT NULL,
    expansions TEXT NOT NULL,
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE TRIGGER search_synonyms_bump AFTER INSERT OR UPDATE OR DELETE ON search_synonyms FOR EACH STATEMENT EXECUTE FUNCTION catalogue_bump();
