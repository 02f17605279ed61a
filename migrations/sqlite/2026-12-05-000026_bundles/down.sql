ALTER TABLE procedures DROP COLUMN bundle;
