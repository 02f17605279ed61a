-- PostgreSQL's rollup functions move to PL/pgSQL here; SQLite keeps its triggers as they are.
SELECT 1;
