ALTER TABLE procedures DROP COLUMN receipt_cutoff;
UPDATE dossiers SET due_date = rescheduled_due_date WHERE rescheduled_due_date IS NOT NULL;
ALTER TABLE dossiers DROP COLUMN rescheduled_due_date;
