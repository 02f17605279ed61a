CREATE FUNCTION dossier_tracking(p_code text)
RETURNS TABLE (
    code text, status text, procedure_snapshot text, submitted_at timestamp, received_at timestamp,
    due_date date, timeliness text, clock_started_on date, paid_before bigint, paid_after bigint,
    step_at timestamp, step_action text, step_to_status text
) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT d.code, d.status, d.procedure_snapshot, d.submitted_at, d.received_at, d.due_date,
           d.timeliness, d.clock_started_on,
           CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p
                 WHERE p.dossier_id = d.id AND p.status = 'paid' AND p.phase = 'before') AS BIGINT),
           CAST((SELECT COALESCE(SUM(p.amount_vnd), 0) FROM payments p
                 WHERE p.dossier_id = d.id AND p.status = 'paid' AND p.phase <> 'before') AS BIGINT),
           e.at, e.action, e.to_status
    FROM dossiers d LEFT JOIN dossier_events e ON e.dossier_id = d.id AND e.action <> 'create'
    WHERE d.code = p_code
    ORDER BY e.at, e.id;
END
$$;
