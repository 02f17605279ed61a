-- The catalogue: administrative units, fields, agencies, procedures; and accounts.
CREATE TABLE admin_units (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    unit_type TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES admin_units (code),
    name_folded TEXT NOT NULL
);
CREATE INDEX admin_units_parent ON admin_units (parent_code, code);

CREATE TABLE fields (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    tier TEXT NOT NULL,
    admin_unit_code TEXT REFERENCES admin_units (code),
    parent_id TEXT REFERENCES agencies (id),
    address TEXT,
    phone TEXT,
    email TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX agencies_tier ON agencies (tier, admin_unit_code);

CREATE TABLE procedures (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    search_text TEXT NOT NULL,
    field_id TEXT NOT NULL REFERENCES fields (id),
    tier TEXT NOT NULL,
    service_level INTEGER NOT NULL,
    online TEXT NOT NULL,
    audiences TEXT NOT NULL,
    processing_days INTEGER NOT NULL,
    fees TEXT NOT NULL,
    required_documents TEXT NOT NULL,
    forms TEXT NOT NULL,
    steps TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    result TEXT NOT NULL,
    form_schema TEXT,
    version INTEGER NOT NULL,
    effective_from DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX procedures_field ON procedures (field_id);
CREATE INDEX procedures_filters ON procedures (service_level, tier);
CREATE INDEX procedures_name_len ON procedures (length(name), code);

CREATE TABLE procedure_agencies (
    procedure_id TEXT NOT NULL REFERENCES procedures (id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    PRIMARY KEY (procedure_id, agency_id)
);
CREATE INDEX procedure_agencies_agency ON procedure_agencies (agency_id, procedure_id);

-- Substring search over the folded text, indexed by trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX procedures_search_trgm ON procedures USING gin (search_text gin_trgm_ops);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    account_type TEXT NOT NULL,
    role TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    agency_id TEXT REFERENCES agencies (id),
    assurance TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX accounts_agency ON accounts (agency_id);
