-- Fine decisions (traffic fines first) the issuing authority registers, paid by decision number.
CREATE TABLE fines (
    id TEXT PRIMARY KEY NOT NULL,
    decision_number TEXT NOT NULL UNIQUE,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    decided_on DATE NOT NULL,
    violator_name TEXT NOT NULL,
    violator_id_number TEXT,
    plate TEXT,
    violation TEXT NOT NULL,
    legal_basis TEXT,
    amount_vnd BIGINT NOT NULL,
    pay_by DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unpaid', 'paid', 'cancelled')),
    paid_at TIMESTAMP,
    paid_vnd BIGINT,
    registered_by TEXT,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fines_plate ON fines (plate);
CREATE INDEX fines_violator ON fines (violator_id_number);

-- Payments of fines, through the same gateways as dossier payments.
CREATE TABLE fine_payments (
    id TEXT PRIMARY KEY NOT NULL,
    fine_id TEXT NOT NULL REFERENCES fines (id),
    provider TEXT NOT NULL,
    fine_vnd BIGINT NOT NULL,
    surcharge_vnd BIGINT NOT NULL,
    amount_vnd BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unpaid', 'pending', 'paid', 'cancelled', 'refunded')),
    reference TEXT NOT NULL UNIQUE,
    provider_txn_no TEXT,
    bank_code TEXT,
    confirmed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fine_payments_fine ON fine_payments (fine_id);

-- Electronic receipts (biên lai điện tử) of every payment, numbered per collecting agency and year.
CREATE TABLE receipts (
    id TEXT PRIMARY KEY NOT NULL,
    agency_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    series TEXT NOT NULL,
    payment_kind TEXT NOT NULL CHECK (payment_kind IN ('dossier', 'fine')),
    payment_id TEXT NOT NULL UNIQUE,
    payer_name TEXT NOT NULL,
    content TEXT NOT NULL,
    amount_vnd BIGINT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    verification_code TEXT NOT NULL UNIQUE,
    UNIQUE (agency_id, year, number)
);
CREATE TABLE receipt_counters (
    agency_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (agency_id, year)
);
