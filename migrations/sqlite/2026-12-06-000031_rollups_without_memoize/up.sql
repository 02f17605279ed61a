-- PostgreSQL's rollup function runs without Memoize; SQLite's triggers have no such plan.
SELECT 1;
