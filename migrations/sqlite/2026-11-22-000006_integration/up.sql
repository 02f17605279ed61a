-- Integration of one-stop systems: clients, the change feed, webhooks and their deliveries,
-- and change positions of dossiers for keyset sync. On SQLite one writer at a time commits,
-- so an increasing number taken inside the write transaction follows commit order.
CREATE TABLE integration_clients (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    agency_ids TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT,
    secret_rotated_at TIMESTAMP,
    revoked_at TIMESTAMP,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES integration_clients (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_client ON webhooks (client_id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    give_up_at TIMESTAMP NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

CREATE TABLE integration_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    txid BIGINT NOT NULL DEFAULT 0,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    agency_id TEXT NOT NULL,
    dossier_id TEXT,
    dossier_code TEXT,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX integration_events_order ON integration_events (txid, seq);
CREATE INDEX integration_events_agency ON integration_events (agency_id, txid, seq);

ALTER TABLE dossiers ADD COLUMN change_txid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
UPDATE dossiers SET change_seq = rowid;
CREATE INDEX dossiers_changes ON dossiers (change_txid, change_seq);
-- The next number is MAX(change_seq) + 1: this index makes it a lookup, not a scan.
CREATE INDEX dossiers_change_seq ON dossiers (change_seq);
CREATE TRIGGER dossiers_change_insert AFTER INSERT ON dossiers
BEGIN
    UPDATE dossiers SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM dossiers) WHERE id = NEW.id;
END;
CREATE TRIGGER dossiers_change_update AFTER UPDATE ON dossiers WHEN NEW.change_seq = OLD.change_seq
BEGIN
    UPDATE dossiers SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM dossiers) WHERE id = NEW.id;
END;
