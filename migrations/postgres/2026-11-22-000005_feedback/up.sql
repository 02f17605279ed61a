-- Citizen voice: complaints, reflections and support requests with their history; satisfaction
-- ratings; and what the service-quality statistics aggregate over.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES accounts (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    procedure_id TEXT REFERENCES procedures (id),
    dossier_id TEXT REFERENCES dossiers (id),
    status TEXT NOT NULL,
    publish BOOLEAN NOT NULL,
    answer TEXT,
    answered_by TEXT,
    answered_at TIMESTAMP,
    reopened INTEGER NOT NULL DEFAULT 0,
    closed_at TIMESTAMP,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_agency ON feedback (agency_id, status, created_at);
CREATE INDEX feedback_author ON feedback (author_id, created_at);
CREATE INDEX feedback_public ON feedback (kind, publish, answered_at);
CREATE INDEX feedback_created ON feedback (created_at);

CREATE TABLE feedback_events (
    id TEXT PRIMARY KEY NOT NULL,
    feedback_id TEXT NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    actor_role TEXT NOT NULL,
    note TEXT
);
CREATE INDEX feedback_events_feedback ON feedback_events (feedback_id, at);

CREATE TABLE ratings (
    id TEXT PRIMARY KEY NOT NULL,
    dossier_id TEXT NOT NULL UNIQUE REFERENCES dossiers (id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    procedure_id TEXT NOT NULL REFERENCES procedures (id),
    author_id TEXT NOT NULL REFERENCES accounts (id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    attitude INTEGER CHECK (attitude BETWEEN 1 AND 5),
    timeliness INTEGER CHECK (timeliness BETWEEN 1 AND 5),
    transparency INTEGER CHECK (transparency BETWEEN 1 AND 5),
    comment TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ratings_agency ON ratings (agency_id, created_at);
CREATE INDEX ratings_created ON ratings (created_at);

-- Fees owed by a dossier, fixed at submission, for the online-payment rate.
ALTER TABLE dossiers ADD COLUMN fee_vnd BIGINT NOT NULL DEFAULT 0;
CREATE INDEX dossiers_agency_received ON dossiers (agency_id, received_at);
CREATE INDEX dossiers_agency_finished ON dossiers (agency_id, finished_at);
CREATE INDEX dossiers_received ON dossiers (received_at);
CREATE INDEX dossiers_finished ON dossiers (finished_at);
