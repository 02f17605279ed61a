-- An apology (phiếu xin lỗi và hẹn lại ngày trả kết quả) gives a new appointment; the due date that
-- judges the agency stays as it was.
ALTER TABLE dossiers ADD COLUMN rescheduled_due_date DATE;

-- Open dossiers whose due date an apology overwrote get it back: the first apology since their
-- last reception kept it as its `previous_due_date`.
UPDATE dossiers SET rescheduled_due_date = due_date, due_date = (
    SELECT json_extract(e.data, '$.previous_due_date') FROM dossier_events e
    WHERE e.dossier_id = dossiers.id AND e.action = 'apologize'
      AND NOT EXISTS (SELECT 1 FROM dossier_events r
                      WHERE r.dossier_id = e.dossier_id AND r.action = 'receive' AND r.at > e.at)
    ORDER BY e.at LIMIT 1)
WHERE finished_at IS NULL AND timeliness IS NULL AND EXISTS (
    SELECT 1 FROM dossier_events e
    WHERE e.dossier_id = dossiers.id AND e.action = 'apologize'
      AND json_extract(e.data, '$.previous_due_date') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM dossier_events r
                      WHERE r.dossier_id = e.dossier_id AND r.action = 'receive' AND r.at > e.at));

-- Procedures that count a dossier received at or after a time of day (`15:00`) from the next
-- working day.
ALTER TABLE procedures ADD COLUMN receipt_cutoff TEXT;

-- The codes (status, channel, timeliness) are the domain's: the application writes them only from
-- its typed values. PostgreSQL also checks them with constraints; SQLite adds no CHECK to a table
-- that exists, and a trigger on every write would cost the embedded database a tenth of its
-- write throughput, so it has none.
