-- Payments of dossier fees, the gateway callbacks received, and idempotency keys.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
    phase TEXT NOT NULL,
    provider TEXT NOT NULL,
    amount_vnd BIGINT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    provider_txn_no TEXT,
    bank_code TEXT,
    confirmed_at TIMESTAMP,
    refund_reason TEXT,
    refunded_by TEXT,
    refunded_at TIMESTAMP,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_dossier ON payments (dossier_id, phase, status);
CREATE INDEX payments_created ON payments (created_at);

CREATE TABLE payment_callbacks (
    id TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    reference TEXT,
    payload TEXT NOT NULL,
    signature_valid BOOLEAN NOT NULL,
    outcome TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payment_callbacks_reference ON payment_callbacks (reference);
CREATE INDEX payment_callbacks_created ON payment_callbacks (created_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
