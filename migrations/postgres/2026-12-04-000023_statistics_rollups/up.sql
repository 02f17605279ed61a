-- Statistics that cost the same at any size: per-day counts kept by the database in the
-- transaction that changes a dossier, a payment, a rating or a feedback item, so that a report
-- reads days × groups instead of dossiers.
--
-- Each counted row is added twice: once under its procedure and once under '' (the agency's
-- total), so that reports per agency read a few rows per day and reports per procedure or field
-- read the procedure rows. Days are Vietnamese calendar days: stored times are UTC, and Vietnam
-- keeps UTC+7 all year (`dvc_domain::time::VIETNAM_UTC_OFFSET_SECS`; the statistics tests compare
-- these counts with a count over the dossiers across midnight).
-- A connection adds to its own share (its backend's process id modulo 8), as `dossier_counts` does.

CREATE TABLE dossier_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    shard SMALLINT NOT NULL,
    -- by the day received: received, of them online, owing fees, with a paid (or refunded) payment
    received BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
    with_fee BIGINT NOT NULL DEFAULT 0,
    paid_online BIGINT NOT NULL DEFAULT 0,
    -- by the day finished, of dossiers the agency settled (returned, rejected, stopped)
    finished BIGINT NOT NULL DEFAULT 0,
    on_time BIGINT NOT NULL DEFAULT 0,
    late BIGINT NOT NULL DEFAULT 0,
    -- by the day submitted, and by the later of submission and finish: those open at the end of a
    -- day are the submitted minus the closed, summed up to that day
    submitted BIGINT NOT NULL DEFAULT 0,
    closed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (procedure_id, day, agency_id, shard)
);
CREATE INDEX dossier_days_by_agency ON dossier_days (agency_id, procedure_id, day);

-- Dossiers being handled against a due date (received or processing, not yet judged), by due
-- date, day submitted and day finished ('9999-12-31' while not finished): what is overdue on a
-- given day.
CREATE TABLE dossier_running (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    due_date DATE NOT NULL,
    submitted_day DATE NOT NULL,
    finished_day DATE NOT NULL,
    shard SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, due_date, agency_id, submitted_day, finished_day, shard)
);
CREATE INDEX dossier_running_by_agency ON dossier_running (agency_id, procedure_id, due_date);
-- The few that a report on a past period takes away from `dossier_due`.
CREATE INDEX dossier_running_submitted ON dossier_running (procedure_id, submitted_day);
CREATE INDEX dossier_running_finished ON dossier_running (procedure_id, finished_day);

-- The same dossiers by due date alone: what is overdue on a day is the sum of the due dates
-- before it, less those submitted after the period or finished within it (from `dossier_running`).
CREATE TABLE dossier_due (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    due_date DATE NOT NULL,
    shard SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, due_date, agency_id, shard)
);
CREATE INDEX dossier_due_by_agency ON dossier_due (agency_id, procedure_id, due_date);

CREATE FUNCTION local_day(t timestamp) RETURNS date LANGUAGE sql IMMUTABLE AS $$
    SELECT CAST(t + interval '7 hours' AS date)
$$;

-- What one dossier adds to `dossier_days`.
CREATE FUNCTION dossier_day_rows(d dossiers) RETURNS TABLE (
    day date, received int, received_online int, with_fee int, paid_online int,
    finished int, on_time int, late int, submitted int, closed int
) LANGUAGE sql STABLE AS $$
    SELECT local_day(d.received_at), 1, CASE WHEN d.channel = 'online' THEN 1 ELSE 0 END,
           CASE WHEN d.fee_vnd > 0 THEN 1 ELSE 0 END,
           CASE WHEN d.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments p WHERE p.dossier_id = d.id
                                                AND p.status IN ('paid', 'refunded')) THEN 1 ELSE 0 END,
           0, 0, 0, 0, 0
    WHERE d.received_at IS NOT NULL
    UNION ALL
    SELECT local_day(d.finished_at), 0, 0, 0, 0, 1,
           CASE WHEN d.timeliness IN ('early', 'on_time') THEN 1 ELSE 0 END,
           CASE WHEN d.timeliness = 'late' THEN 1 ELSE 0 END, 0, 0
    WHERE d.finished_at IS NOT NULL AND d.status IN ('returned', 'rejected', 'stopped')
    UNION ALL
    SELECT local_day(d.submitted_at), 0, 0, 0, 0, 0, 0, 0, 1, 0
    WHERE d.submitted_at IS NOT NULL
    UNION ALL
    SELECT local_day(GREATEST(d.submitted_at, d.finished_at)), 0, 0, 0, 0, 0, 0, 0, 0, 1
    WHERE d.submitted_at IS NOT NULL AND d.finished_at IS NOT NULL
$$;

-- Takes away what the dossiers `gone` added and adds what `came` add, in one statement per
-- table, rows locked in key order; keys whose counts do not change are not written.
CREATE FUNCTION dossier_rollups_apply(gone dossiers[], came dossiers[]) RETURNS void LANGUAGE sql AS $$
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
$$;

-- Rows a statement adds or changes are counted together (bulk loads write many at once). A
-- dossier is taken away before it is deleted, while the payments that go with it are still there.
CREATE FUNCTION dossier_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM dossier_rollups_apply('{}', ARRAY(SELECT ROW(r.*)::dossiers FROM new_rows r));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM dossier_rollups_apply(ARRAY[OLD], '{}');
        RETURN OLD;
    ELSE
        PERFORM dossier_rollups_apply(ARRAY(SELECT ROW(r.*)::dossiers FROM old_rows r), ARRAY(SELECT ROW(r.*)::dossiers FROM new_rows r));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER dossiers_rollups_added AFTER INSERT ON dossiers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dossier_rollups_changed();
CREATE TRIGGER dossiers_rollups_removed BEFORE DELETE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION dossier_rollups_changed();
CREATE TRIGGER dossiers_rollups_updated AFTER UPDATE ON dossiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dossier_rollups_changed();

-- A payment that is paid (or no longer) changes its dossier's `paid_online`: the dossier's
-- counts are taken away before the change and added after it.
CREATE FUNCTION dossier_rollups_paid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rows dossiers[] := ARRAY(SELECT d FROM dossiers d WHERE d.id = CASE TG_OP WHEN 'DELETE' THEN OLD.dossier_id
                                                                              ELSE NEW.dossier_id END);
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        PERFORM dossier_rollups_apply(rows, '{}');
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    PERFORM dossier_rollups_apply('{}', rows);
    RETURN NULL;
END
$$;

CREATE TRIGGER payments_rollups_before BEFORE INSERT OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION dossier_rollups_paid();
CREATE TRIGGER payments_rollups_after AFTER INSERT OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION dossier_rollups_paid();
CREATE TRIGGER payments_rollups_before_update BEFORE UPDATE OF status, dossier_id ON payments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.dossier_id IS DISTINCT FROM NEW.dossier_id)
    EXECUTE FUNCTION dossier_rollups_paid();
CREATE TRIGGER payments_rollups_after_update AFTER UPDATE OF status, dossier_id ON payments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.dossier_id IS DISTINCT FROM NEW.dossier_id)
    EXECUTE FUNCTION dossier_rollups_paid();

-- Ratings given, by day.
CREATE TABLE rating_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    shard SMALLINT NOT NULL,
    ratings BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, day, agency_id, shard)
);
CREATE INDEX rating_days_by_agency ON rating_days (agency_id, procedure_id, day);

CREATE FUNCTION rating_rollups_apply(gone ratings[], came ratings[]) RETURNS void LANGUAGE sql AS $$
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
$$;

CREATE FUNCTION rating_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM rating_rollups_apply('{}', ARRAY(SELECT ROW(r.*)::ratings FROM new_rows r));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM rating_rollups_apply(ARRAY(SELECT ROW(r.*)::ratings FROM old_rows r), '{}');
    ELSE
        PERFORM rating_rollups_apply(ARRAY(SELECT ROW(r.*)::ratings FROM old_rows r), ARRAY(SELECT ROW(r.*)::ratings FROM new_rows r));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ratings_rollups_added AFTER INSERT ON ratings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rating_rollups_changed();
CREATE TRIGGER ratings_rollups_removed AFTER DELETE ON ratings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rating_rollups_changed();
CREATE TRIGGER ratings_rollups_updated AFTER UPDATE ON ratings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rating_rollups_changed();

-- Feedback filed, by day, kind and present state; '-' stands for feedback about no procedure.
CREATE TABLE feedback_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    shard SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, day, agency_id, kind, status, shard)
);
CREATE INDEX feedback_days_by_agency ON feedback_days (agency_id, procedure_id, day);

CREATE FUNCTION feedback_rollups_apply(gone feedback[], came feedback[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO feedback_days AS t (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT lv.procedure_id, (s.f).agency_id, local_day((s.f).created_at), (s.f).kind, (s.f).status,
           pg_backend_pid() % 8, sum(s.sign)
    FROM (SELECT -1 AS sign, g AS f FROM unnest(gone) g UNION ALL SELECT 1, n FROM unnest(came) n) s
    CROSS JOIN LATERAL (VALUES (COALESCE((s.f).procedure_id, '-')), ('')) lv (procedure_id)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(s.sign) <> 0
    ORDER BY 1, 3, 2, 4, 5
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = t.n + excluded.n;
$$;

CREATE FUNCTION feedback_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM feedback_rollups_apply('{}', ARRAY(SELECT ROW(r.*)::feedback FROM new_rows r));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM feedback_rollups_apply(ARRAY(SELECT ROW(r.*)::feedback FROM old_rows r), '{}');
    ELSE
        PERFORM feedback_rollups_apply(ARRAY(SELECT ROW(r.*)::feedback FROM old_rows r), ARRAY(SELECT ROW(r.*)::feedback FROM new_rows r));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER feedback_rollups_added AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_rollups_changed();
CREATE TRIGGER feedback_rollups_removed AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_rollups_changed();
CREATE TRIGGER feedback_rollups_updated AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION feedback_rollups_changed();

-- What is there already, counted in one pass over each table.
INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                          finished, on_time, late, submitted, closed)
SELECT lv.procedure_id, d.agency_id, c.day, 0, sum(c.received), sum(c.received_online), sum(c.with_fee),
       sum(c.paid_online), sum(c.finished), sum(c.on_time), sum(c.late), sum(c.submitted), sum(c.closed)
FROM dossiers d CROSS JOIN LATERAL dossier_day_rows(d) c
CROSS JOIN LATERAL (VALUES (d.procedure_id), ('')) lv (procedure_id)
GROUP BY 1, 2, 3;
INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
SELECT lv.procedure_id, d.agency_id, d.due_date, local_day(d.submitted_at),
       COALESCE(local_day(d.finished_at), DATE '9999-12-31'), 0, count(*)
FROM dossiers d CROSS JOIN LATERAL (VALUES (d.procedure_id), ('')) lv (procedure_id)
WHERE d.status IN ('received', 'processing') AND d.timeliness IS NULL AND d.due_date IS NOT NULL
  AND d.submitted_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
SELECT procedure_id, agency_id, due_date, 0, sum(n) FROM dossier_running GROUP BY 1, 2, 3;
INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
SELECT lv.procedure_id, r.agency_id, local_day(r.created_at), 0, count(*), sum(r.score)
FROM ratings r CROSS JOIN LATERAL (VALUES (r.procedure_id), ('')) lv (procedure_id)
GROUP BY 1, 2, 3;
INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
SELECT lv.procedure_id, f.agency_id, local_day(f.created_at), f.kind, f.status, 0, count(*)
FROM feedback f CROSS JOIN LATERAL (VALUES (COALESCE(f.procedure_id, '-')), ('')) lv (procedure_id)
GROUP BY 1, 2, 3, 4, 5;
