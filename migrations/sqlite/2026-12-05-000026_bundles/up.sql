-- Interconnected procedures (liên thông): a bundle procedure describes its steps (each step's
-- procedure, the tier of the agency that settles it, its budget of working days, the earlier
-- steps it needs) as JSON; ordinary procedures have none.
ALTER TABLE procedures ADD COLUMN bundle TEXT;
