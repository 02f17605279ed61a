-- An apology (phiếu xin lỗi và hẹn lại ngày trả kết quả) gives a new appointment; the due date that
-- judges the agency stays as it was.
ALTER TABLE dossiers ADD COLUMN rescheduled_due_date DATE;

-- Open dossiers whose due date an apology overwrote get it back: the first apology since their
-- last reception kept it as its `previous_due_date`.
UPDATE dossiers d SET rescheduled_due_date = d.due_date, due_date = CAST(a.previous AS DATE)
FROM (
    SELECT DISTINCT ON (e.dossier_id) e.dossier_id, CAST(e.data AS json) ->> 'previous_due_date' AS previous
    FROM dossier_events e
    WHERE e.action = 'apologize'
      AND NOT EXISTS (SELECT 1 FROM dossier_events r
                      WHERE r.dossier_id = e.dossier_id AND r.action = 'receive' AND r.at > e.at)
    ORDER BY e.dossier_id, e.at
) a
WHERE a.dossier_id = d.id AND a.previous IS NOT NULL AND d.finished_at IS NULL AND d.timeliness IS NULL;

-- Procedures that count a dossier received at or after a time of day (`15:00`) from the next
-- working day.
ALTER TABLE procedures ADD COLUMN receipt_cutoff TEXT;

-- Only the codes the domain knows: DossierStatus, Channel and Timeliness (a test inserts every
-- value of each and an unknown one).
ALTER TABLE dossiers ADD CONSTRAINT dossiers_status_known CHECK (status IN ('draft', 'submitted', 'received',
    'supplement_requested', 'processing', 'completed', 'returned', 'rejected', 'withdrawn', 'stopped'));
ALTER TABLE dossiers ADD CONSTRAINT dossiers_channel_known CHECK (channel IN ('online', 'counter', 'post'));
ALTER TABLE dossiers ADD CONSTRAINT dossiers_timeliness_known
    CHECK (timeliness IS NULL OR timeliness IN ('early', 'on_time', 'late'));
