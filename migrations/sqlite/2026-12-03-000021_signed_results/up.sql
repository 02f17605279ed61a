-- Every result document an agency issues, registered so that anyone can verify it: its hash, who
-- issued it and when, and the agency's signature over those facts.
CREATE TABLE signed_results (
    verification_code TEXT PRIMARY KEY NOT NULL,
    file_id TEXT NOT NULL REFERENCES files (id),
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    -- What was signed (the facts above as one text), how, and the certificate that verifies it;
    -- no signature when the agency has no key configured.
    signed_text TEXT NOT NULL,
    algorithm TEXT,
    signature TEXT,
    certificate_pem TEXT,
    revoked_at TIMESTAMP,
    revoked_by TEXT,
    revoke_reason TEXT
);
CREATE INDEX signed_results_sha256 ON signed_results (sha256);
CREATE UNIQUE INDEX signed_results_file ON signed_results (file_id);
