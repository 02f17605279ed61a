-- Statistics that cost the same at any size: per-day counts kept by the database in the
-- transaction that changes a dossier, a payment, a rating or a feedback item, so that a report
-- reads days × groups instead of dossiers.
--
-- Each counted row is added twice: once under its procedure and once under '' (the agency's
-- total), so that reports per agency read a few rows per day and reports per procedure or field
-- read the procedure rows. Days are Vietnamese calendar days: stored times are UTC, and Vietnam
-- keeps UTC+7 all year (`dvc_domain::time::VIETNAM_UTC_OFFSET_SECS`; the statistics tests compare
-- these counts with a count over the dossiers across midnight).
-- SQLite writes one transaction at a time, so each key has one share (0).

CREATE TABLE dossier_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    shard INTEGER NOT NULL,
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
    shard INTEGER NOT NULL,
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
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, due_date, agency_id, shard)
);
CREATE INDEX dossier_due_by_agency ON dossier_due (agency_id, procedure_id, due_date);

-- What each dossier adds to `dossier_days`, under its procedure and under ''.
CREATE VIEW dossier_day_rows AS
SELECT d.id AS dossier_id, CASE l.n WHEN 0 THEN d.procedure_id ELSE '' END AS procedure_id, d.agency_id AS agency_id,
       date(d.received_at, '+7 hours') AS day, 1 AS received,
       CASE WHEN d.channel = 'online' THEN 1 ELSE 0 END AS received_online,
       CASE WHEN d.fee_vnd > 0 THEN 1 ELSE 0 END AS with_fee,
       CASE WHEN d.fee_vnd > 0 AND EXISTS (SELECT 1 FROM payments p WHERE p.dossier_id = d.id
                                            AND p.status IN ('paid', 'refunded')) THEN 1 ELSE 0 END AS paid_online,
       0 AS finished, 0 AS on_time, 0 AS late, 0 AS submitted, 0 AS closed
FROM dossiers d, (SELECT 0 AS n UNION ALL SELECT 1) l WHERE d.received_at IS NOT NULL
UNION ALL
SELECT d.id, CASE l.n WHEN 0 THEN d.procedure_id ELSE '' END, d.agency_id, date(d.finished_at, '+7 hours'),
       0, 0, 0, 0, 1, CASE WHEN d.timeliness IN ('early', 'on_time') THEN 1 ELSE 0 END,
       CASE WHEN d.timeliness = 'late' THEN 1 ELSE 0 END, 0, 0
FROM dossiers d, (SELECT 0 AS n UNION ALL SELECT 1) l
WHERE d.finished_at IS NOT NULL AND d.status IN ('returned', 'rejected', 'stopped')
UNION ALL
SELECT d.id, CASE l.n WHEN 0 THEN d.procedure_id ELSE '' END, d.agency_id, date(d.submitted_at, '+7 hours'),
       0, 0, 0, 0, 0, 0, 0, 1, 0
FROM dossiers d, (SELECT 0 AS n UNION ALL SELECT 1) l WHERE d.submitted_at IS NOT NULL
UNION ALL
SELECT d.id, CASE l.n WHEN 0 THEN d.procedure_id ELSE '' END, d.agency_id,
       date(max(d.submitted_at, d.finished_at), '+7 hours'), 0, 0, 0, 0, 0, 0, 0, 0, 1
FROM dossiers d, (SELECT 0 AS n UNION ALL SELECT 1) l WHERE d.submitted_at IS NOT NULL AND d.finished_at IS NOT NULL;

-- What each dossier adds to `dossier_running`.
CREATE VIEW dossier_running_rows AS
SELECT d.id AS dossier_id, CASE l.n WHEN 0 THEN d.procedure_id ELSE '' END AS procedure_id, d.agency_id AS agency_id,
       d.due_date AS due_date, date(d.submitted_at, '+7 hours') AS submitted_day,
       COALESCE(date(d.finished_at, '+7 hours'), '9999-12-31') AS finished_day
FROM dossiers d, (SELECT 0 AS n UNION ALL SELECT 1) l
WHERE d.status IN ('received', 'processing') AND d.timeliness IS NULL AND d.due_date IS NOT NULL
  AND d.submitted_at IS NOT NULL;

INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                          finished, on_time, late, submitted, closed)
SELECT procedure_id, agency_id, day, 0, sum(received), sum(received_online), sum(with_fee), sum(paid_online),
       sum(finished), sum(on_time), sum(late), sum(submitted), sum(closed)
FROM dossier_day_rows GROUP BY procedure_id, agency_id, day;
INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
SELECT procedure_id, agency_id, due_date, submitted_day, finished_day, 0, count(*)
FROM dossier_running_rows GROUP BY procedure_id, agency_id, due_date, submitted_day, finished_day;
INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
SELECT procedure_id, agency_id, due_date, 0, count(*) FROM dossier_running_rows GROUP BY procedure_id, agency_id, due_date;

-- A dossier's counts are taken away before it changes and added after: the triggers below come
-- in pairs, each half one of these statements with the dossier's id and the sign.
CREATE TRIGGER dossiers_rollups_added AFTER INSERT ON dossiers
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                              finished, on_time, late, submitted, closed)
    SELECT procedure_id, agency_id, day, 0, sum(received), sum(received_online), sum(with_fee), sum(paid_online),
           sum(finished), sum(on_time), sum(late), sum(submitted), sum(closed)
    FROM dossier_day_rows WHERE dossier_id = NEW.id GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        received = received + excluded.received, received_online = received_online + excluded.received_online,
        with_fee = with_fee + excluded.with_fee, paid_online = paid_online + excluded.paid_online,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time, late = late + excluded.late,
        submitted = submitted + excluded.submitted, closed = closed + excluded.closed;
    INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
    SELECT procedure_id, agency_id, due_date, submitted_day, finished_day, 0, count(*)
    FROM dossier_running_rows WHERE dossier_id = NEW.id
    GROUP BY procedure_id, agency_id, due_date, submitted_day, finished_day
    ON CONFLICT (procedure_id, due_date, agency_id, submitted_day, finished_day, shard) DO UPDATE SET n = n + excluded.n;
    INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
    SELECT procedure_id, agency_id, due_date, 0, count(*)
    FROM dossier_running_rows WHERE dossier_id = NEW.id GROUP BY procedure_id, agency_id, due_date
    ON CONFLICT (procedure_id, due_date, agency_id, shard) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER dossiers_rollups_removed BEFORE DELETE ON dossiers
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                              finished, on_time, late, submitted, closed)
    SELECT procedure_id, agency_id, day, 0, -sum(received), -sum(received_online), -sum(with_fee), -sum(paid_online),
           -sum(finished), -sum(on_time), -sum(late), -sum(submitted), -sum(closed)
    FROM dossier_day_rows WHERE dossier_id = OLD.id GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        received = received + excluded.received, received_online = received_online + excluded.received_online,
        with_fee = with_fee + excluded.with_fee, paid_online = paid_online + excluded.paid_online,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time, late = late + excluded.late,
        submitted = submitted + excluded.submitted, closed = closed + excluded.closed;
    INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
    SELECT procedure_id, agency_id, due_date, submitted_day, finished_day, 0, -count(*)
    FROM dossier_running_rows WHERE dossier_id = OLD.id
    GROUP BY procedure_id, agency_id, due_date, submitted_day, finished_day
    ON CONFLICT (procedure_id, due_date, agency_id, submitted_day, finished_day, shard) DO UPDATE SET n = n + excluded.n;
    INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
    SELECT procedure_id, agency_id, due_date, 0, -count(*)
    FROM dossier_running_rows WHERE dossier_id = OLD.id GROUP BY procedure_id, agency_id, due_date
    ON CONFLICT (procedure_id, due_date, agency_id, shard) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER dossiers_rollups_before_update BEFORE UPDATE OF procedure_id, agency_id, status, channel, fee_vnd,
    submitted_at, received_at, finished_at, timeliness, due_date ON dossiers
    WHEN OLD.procedure_id IS NOT NEW.procedure_id OR OLD.agency_id IS NOT NEW.agency_id OR OLD.status IS NOT NEW.status
      OR OLD.channel IS NOT NEW.channel OR OLD.fee_vnd IS NOT NEW.fee_vnd OR OLD.submitted_at IS NOT NEW.submitted_at
      OR OLD.received_at IS NOT NEW.received_at OR OLD.finished_at IS NOT NEW.finished_at
      OR OLD.timeliness IS NOT NEW.timeliness OR OLD.due_date IS NOT NEW.due_date
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                              finished, on_time, late, submitted, closed)
    SELECT procedure_id, agency_id, day, 0, -sum(received), -sum(received_online), -sum(with_fee), -sum(paid_online),
           -sum(finished), -sum(on_time), -sum(late), -sum(submitted), -sum(closed)
    FROM dossier_day_rows WHERE dossier_id = OLD.id GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        received = received + excluded.received, received_online = received_online + excluded.received_online,
        with_fee = with_fee + excluded.with_fee, paid_online = paid_online + excluded.paid_online,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time, late = late + excluded.late,
        submitted = submitted + excluded.submitted, closed = closed + excluded.closed;
    INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
    SELECT procedure_id, agency_id, due_date, submitted_day, finished_day, 0, -count(*)
    FROM dossier_running_rows WHERE dossier_id = OLD.id
    GROUP BY procedure_id, agency_id, due_date, submitted_day, finished_day
    ON CONFLICT (procedure_id, due_date, agency_id, submitted_day, finished_day, shard) DO UPDATE SET n = n + excluded.n;
    INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
    SELECT procedure_id, agency_id, due_date, 0, -count(*)
    FROM dossier_running_rows WHERE dossier_id = OLD.id GROUP BY procedure_id, agency_id, due_date
    ON CONFLICT (procedure_id, due_date, agency_id, shard) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER dossiers_rollups_after_update AFTER UPDATE OF procedure_id, agency_id, status, channel, fee_vnd,
    submitted_at, received_at, finished_at, timeliness, due_date ON dossiers
    WHEN OLD.procedure_id IS NOT NEW.procedure_id OR OLD.agency_id IS NOT NEW.agency_id OR OLD.status IS NOT NEW.status
      OR OLD.channel IS NOT NEW.channel OR OLD.fee_vnd IS NOT NEW.fee_vnd OR OLD.submitted_at IS NOT NEW.submitted_at
      OR OLD.received_at IS NOT NEW.received_at OR OLD.finished_at IS NOT NEW.finished_at
      OR OLD.timeliness IS NOT NEW.timeliness OR OLD.due_date IS NOT NEW.due_date
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, received, received_online, with_fee, paid_online,
                              finished, on_time, late, submitted, closed)
    SELECT procedure_id, agency_id, day, 0, sum(received), sum(received_online), sum(with_fee), sum(paid_online),
           sum(finished), sum(on_time), sum(late), sum(submitted), sum(closed)
    FROM dossier_day_rows WHERE dossier_id = NEW.id GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        received = received + excluded.received, received_online = received_online + excluded.received_online,
        with_fee = with_fee + excluded.with_fee, paid_online = paid_online + excluded.paid_online,
        finished = finished + excluded.finished, on_time = on_time + excluded.on_time, late = late + excluded.late,
        submitted = submitted + excluded.submitted, closed = closed + excluded.closed;
    INSERT INTO dossier_running (procedure_id, agency_id, due_date, submitted_day, finished_day, shard, n)
    SELECT procedure_id, agency_id, due_date, submitted_day, finished_day, 0, count(*)
    FROM dossier_running_rows WHERE dossier_id = NEW.id
    GROUP BY procedure_id, agency_id, due_date, submitted_day, finished_day
    ON CONFLICT (procedure_id, due_date, agency_id, submitted_day, finished_day, shard) DO UPDATE SET n = n + excluded.n;
    INSERT INTO dossier_due (procedure_id, agency_id, due_date, shard, n)
    SELECT procedure_id, agency_id, due_date, 0, count(*)
    FROM dossier_running_rows WHERE dossier_id = NEW.id GROUP BY procedure_id, agency_id, due_date
    ON CONFLICT (procedure_id, due_date, agency_id, shard) DO UPDATE SET n = n + excluded.n;
END;

-- A payment that is paid (or no longer) changes its dossier's `paid_online`.
CREATE TRIGGER payments_rollups_before_insert BEFORE INSERT ON payments
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, -sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id = NEW.dossier_id AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;
CREATE TRIGGER payments_rollups_after_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id = NEW.dossier_id AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;
CREATE TRIGGER payments_rollups_before_delete BEFORE DELETE ON payments
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, -sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id = OLD.dossier_id AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;
CREATE TRIGGER payments_rollups_after_delete AFTER DELETE ON payments
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id = OLD.dossier_id AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;
CREATE TRIGGER payments_rollups_before_update BEFORE UPDATE OF status, dossier_id ON payments
    WHEN OLD.status IS NOT NEW.status OR OLD.dossier_id IS NOT NEW.dossier_id
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, -sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id IN (OLD.dossier_id, NEW.dossier_id) AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;
CREATE TRIGGER payments_rollups_after_update AFTER UPDATE OF status, dossier_id ON payments
    WHEN OLD.status IS NOT NEW.status OR OLD.dossier_id IS NOT NEW.dossier_id
BEGIN
    INSERT INTO dossier_days (procedure_id, agency_id, day, shard, paid_online)
    SELECT procedure_id, agency_id, day, 0, sum(paid_online) FROM dossier_day_rows
    WHERE dossier_id IN (OLD.dossier_id, NEW.dossier_id) AND received = 1 GROUP BY procedure_id, agency_id, day
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET paid_online = paid_online + excluded.paid_online;
END;

-- Ratings given, by day.
CREATE TABLE rating_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    shard INTEGER NOT NULL,
    ratings BIGINT NOT NULL,
    score_sum BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, day, agency_id, shard)
);
CREATE INDEX rating_days_by_agency ON rating_days (agency_id, procedure_id, day);

CREATE VIEW rating_day_rows AS
SELECT r.id AS rating_id, CASE l.n WHEN 0 THEN r.procedure_id ELSE '' END AS procedure_id, r.agency_id AS agency_id,
       date(r.created_at, '+7 hours') AS day, r.score AS score
FROM ratings r, (SELECT 0 AS n UNION ALL SELECT 1) l;

INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
SELECT procedure_id, agency_id, day, 0, count(*), sum(score) FROM rating_day_rows GROUP BY procedure_id, agency_id, day;

CREATE TRIGGER ratings_rollups_added AFTER INSERT ON ratings
BEGIN
    INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
    SELECT procedure_id, agency_id, day, 0, 1, score FROM rating_day_rows WHERE rating_id = NEW.id
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        ratings = ratings + excluded.ratings, score_sum = score_sum + excluded.score_sum;
END;
CREATE TRIGGER ratings_rollups_removed BEFORE DELETE ON ratings
BEGIN
    INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
    SELECT procedure_id, agency_id, day, 0, -1, -score FROM rating_day_rows WHERE rating_id = OLD.id
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        ratings = ratings + excluded.ratings, score_sum = score_sum + excluded.score_sum;
END;
CREATE TRIGGER ratings_rollups_before_update BEFORE UPDATE OF procedure_id, agency_id, created_at, score ON ratings
BEGIN
    INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
    SELECT procedure_id, agency_id, day, 0, -1, -score FROM rating_day_rows WHERE rating_id = OLD.id
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        ratings = ratings + excluded.ratings, score_sum = score_sum + excluded.score_sum;
END;
CREATE TRIGGER ratings_rollups_after_update AFTER UPDATE OF procedure_id, agency_id, created_at, score ON ratings
BEGIN
    INSERT INTO rating_days (procedure_id, agency_id, day, shard, ratings, score_sum)
    SELECT procedure_id, agency_id, day, 0, 1, score FROM rating_day_rows WHERE rating_id = NEW.id
    ON CONFLICT (procedure_id, day, agency_id, shard) DO UPDATE SET
        ratings = ratings + excluded.ratings, score_sum = score_sum + excluded.score_sum;
END;

-- Feedback filed, by day, kind and present state; '-' stands for feedback about no procedure.
CREATE TABLE feedback_days (
    procedure_id TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    day DATE NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (procedure_id, day, agency_id, kind, status, shard)
);
CREATE INDEX feedback_days_by_agency ON feedback_days (agency_id, procedure_id, day);

CREATE VIEW feedback_day_rows AS
SELECT f.id AS feedback_id, CASE l.n WHEN 0 THEN COALESCE(f.procedure_id, '-') ELSE '' END AS procedure_id,
       f.agency_id AS agency_id, date(f.created_at, '+7 hours') AS day, f.kind AS kind, f.status AS status
FROM feedback f, (SELECT 0 AS n UNION ALL SELECT 1) l;

INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
SELECT procedure_id, agency_id, day, kind, status, 0, count(*) FROM feedback_day_rows
GROUP BY procedure_id, agency_id, day, kind, status;

CREATE TRIGGER feedback_rollups_added AFTER INSERT ON feedback
BEGIN
    INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT procedure_id, agency_id, day, kind, status, 0, 1 FROM feedback_day_rows WHERE feedback_id = NEW.id
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER feedback_rollups_removed BEFORE DELETE ON feedback
BEGIN
    INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT procedure_id, agency_id, day, kind, status, 0, -1 FROM feedback_day_rows WHERE feedback_id = OLD.id
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER feedback_rollups_before_update BEFORE UPDATE OF procedure_id, agency_id, created_at, kind, status
    ON feedback
BEGIN
    INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT procedure_id, agency_id, day, kind, status, 0, -1 FROM feedback_day_rows WHERE feedback_id = OLD.id
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER feedback_rollups_after_update AFTER UPDATE OF procedure_id, agency_id, created_at, kind, status
    ON feedback
BEGIN
    INSERT INTO feedback_days (procedure_id, agency_id, day, kind, status, shard, n)
    SELECT procedure_id, agency_id, day, kind, status, 0, 1 FROM feedback_day_rows WHERE feedback_id = NEW.id
    ON CONFLICT (procedure_id, day, agency_id, kind, status, shard) DO UPDATE SET n = n + excluded.n;
END;
