-- The rollups' statements planned once per connection: a function in SQL is planned again on
-- every call (each move planned the three statements that keep `dossier_days`, `dossier_running`
-- and `dossier_due`, and those of ratings and feedback); in PL/pgSQL each connection keeps their
-- plans. The statements are those of 2026-12-04-000023_statistics_rollups, unchanged.

CREATE OR REPLACE FUNCTION dossier_rollups_apply(gone dossiers[], came dossiers[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_days AS t (procedure_id, agency_id, day, shard, received, received_online, with_fee,
                                   paid_online, finished, on_time, late, submitted, closed)
    SELECT lv.procedure_id, (s.d).agency_id, c.day, pg_backend_pid() % 8,
           sum(s.sign * c.received), sum(s.sign * c.received_online), sum(s.sign * c.with_fee),
           sum(s.sign * c.paid_online), sum(s.sign * c.finished), sum(s.sign * c.on_time), sum(s.sign * c.late),
           sum(s.sign * c.submitted), sum(s.sign * c.closed)
    FROM (SELECT -1 AS sign, g AS d FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL dossier_day_rows(s.d) c
    CROSS JOIN LATERAL (VALUES ((s.d).procedure_id), ('')) lv (procedure_id)
    GROUP BY lv.procedure_id, (s.d).agency_id, c.day
    HAVING sum(s.sign * c.received) <> 0 OR sum(s.sign * c.received_online) <> 0 OR sum(s.sign * c.with_fee) <> 0
        OR sum(s.sign * c.paid_online) <> 0 OR sum(s.sign * c.finished) <> 0 OR sum(s.sign * c.on_time) <> 0
        OR sum(s.sign * c.late) <> 0 OR sum(s.sign * c.submitted) <> 0 OR sum(s.sign * c.closed) <> 0
    ORDER BY 1, 3, 2
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        received = t.received + excluded.received, received_online = t.received_online + excluded.received_online,
        with_fee = t.with_fee + excluded.with_fee, paid_online = t.paid_online + excluded.paid_online,
        finished = t.finished + excluded.finished, on_time = t.on_time + excluded.on_time, late = t.late + excluded.late,
        submitted = t.submitted + excluded.submitted, closed = t.closed + excluded.closed;

    INSERT INTO dossier_running AS t (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
    SELECT lv.procedure_id, (s.d).agency_id, (s.d).due_date, local_day((s.d).submitted_at),
           COALESCE(local_day((s.d).finished_at), DATE '9999-12-31'), pg_backend_pid() % 8, sum(s.sign)
    FROM (SELECT -1 AS sign, g AS d FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL (VALUES ((s.d).procedure_id), ('')) lv (procedure_id)
    WHERE (s.d).status IN ('received', 'processing') AND (s.d).timeliness IS NULL
      AND (s.d).due_date IS NOT NULL AND (s.d).submitted_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(s.sign) <> 0
    ORDER BY 1, 3, 2, 4, 5
    ON CONFLICT (procedure_id, due_date, agency_id, submitted_day, finished_day, shard) DO UPDATE SET n = t.n + excluded.n;

    INSERT INTO dossier_due AS t (procedure_id, agency_id, due_date, shard, n)
    SELECT lv.procedure_id, (s.d).agency_id, (s.d).due_date, pg_backend_pid() % 8, sum(s.sign)
    FROM (SELECT -1 AS sign, g AS d FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL (VALUES ((s.d).procedure_id), ('')) lv (procedure_id)
    WHERE (s.d).status IN ('received', 'processing') AND (s.d).timeliness IS NULL
      AND (s.d).due_date IS NOT NULL AND (s.d).submitted_at IS NOT NULL
    GROUP BY 1, 2, 3
    HAVING sum(s.sign) <> 0
    ORDER BY 1, 3, 2
    ON CONFLICT (procedure_id, due_date, agency_id, shard) DO UPDATE SET n = t.n + excluded.n;
END
$$;

CREATE OR REPLACE FUNCTION rating_rollups_apply(gone ratings[], came ratings[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rating_days AS t (procedure_id, agency_id, day, shard, ratings, score_sum)
    SELECT lv.procedure_id, (s.r).agency_id, local_day((s.r).created_at), pg_backend_pid() % 8,
           sum(s.sign), sum(s.sign * (s.r).score)
    FROM (SELECT -1 AS sign, g AS r FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL (VALUES ((s.r).procedure_id), ('')) lv (procedure_id)
    GROUP BY 1, 2, 3
    HAVING sum(s.sign) <> 0 OR sum(s.sign * (s.r).score) <> 0
    ORDER BY 1, 3, 2
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        ratings = t.ratings + excluded.ratings, score_sum = t.score_sum + excluded.score_sum;
END
$$;

CREATE OR REPLACE FUNCTION feedback_rollups_apply(gone feedback[], came feedback[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_days AS t (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT lv.procedure_id, (s.f).agency_id, local_day((s.f).created_at), (s.f).kind, (s.f).status,
           pg_backend_pid() % 8, sum(s.sign)
    FROM (SELECT -1 AS sign, g AS f FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL (VALUES (COALESCE((s.f).procedure_id, '-')), ('')) lv (procedure_id)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(s.sign) <> 0
    ORDER BY 1, 3, 2, 4, 5
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = t.n + excluded.n;
END
$$;
