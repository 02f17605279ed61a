-- Working-day calendar, dossiers, their history, files and attachments.
CREATE TABLE holidays (
    day DATE PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    working BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE dossiers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT UNIQUE,
    procedure_id TEXT NOT NULL REFERENCES procedures (id),
    procedure_version INTEGER NOT NULL,
    procedure_snapshot TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    applicant_id TEXT REFERENCES accounts (id),
    applicant TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    form_data TEXT NOT NULL,
    delivery TEXT NOT NULL,
    submitted_at TIMESTAMP,
    received_at TIMESTAMP,
    due_date DATE,
    working_days_allowed INTEGER NOT NULL,
    working_days_spent INTEGER NOT NULL DEFAULT 0,
    clock_started_on DATE,
    finished_at TIMESTAMP,
    timeliness TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id, created_at);
CREATE INDEX dossiers_agency ON dossiers (agency_id, status, due_date);
CREATE INDEX dossiers_updated ON dossiers (updated_at, id);

CREATE TABLE dossier_events (
    id TEXT PRIMARY KEY NOT NULL,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    actor_role TEXT NOT NULL,
    note TEXT,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX dossier_events_dossier ON dossier_events (dossier_id, at);

CREATE TABLE dossier_code_counters (
    prefix TEXT PRIMARY KEY NOT NULL,
    last_number INTEGER NOT NULL
);

CREATE TABLE files (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT REFERENCES accounts (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    digitization INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX files_owner ON files (owner_id, created_at);

CREATE TABLE dossier_attachments (
    id TEXT PRIMARY KEY NOT NULL,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    document_id TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES files (id),
    kind TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dossier_attachments_dossier ON dossier_attachments (dossier_id, kind);
