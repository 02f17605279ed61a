-- Applicant accounts, registration, OTP, refresh tokens, the notification outbox, rate limits.
ALTER TABLE accounts ADD COLUMN id_number TEXT;
ALTER TABLE accounts ADD COLUMN tax_code TEXT;
ALTER TABLE accounts ADD COLUMN phone TEXT;
ALTER TABLE accounts ADD COLUMN email TEXT;
ALTER TABLE accounts ADD COLUMN date_of_birth DATE;
ALTER TABLE accounts ADD COLUMN bhxh_code TEXT;
ALTER TABLE accounts ADD COLUMN registration_method TEXT;
ALTER TABLE accounts ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX accounts_id_number ON accounts (id_number);
CREATE UNIQUE INDEX accounts_tax_code ON accounts (tax_code);
CREATE INDEX accounts_phone ON accounts (phone);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY NOT NULL,
    account_type TEXT NOT NULL,
    method TEXT NOT NULL,
    full_name TEXT NOT NULL,
    id_number TEXT,
    tax_code TEXT,
    date_of_birth DATE,
    phone TEXT,
    email TEXT,
    bhxh_code TEXT,
    status TEXT NOT NULL,
    assurance TEXT,
    otp_hash TEXT,
    otp_expires_at TIMESTAMP,
    otp_attempts INTEGER NOT NULL DEFAULT 0,
    otp_last_sent_at TIMESTAMP,
    challenge TEXT,
    certificate_subject TEXT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE password_resets (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    otp_hash TEXT NOT NULL,
    otp_expires_at TIMESTAMP NOT NULL,
    otp_attempts INTEGER NOT NULL DEFAULT 0,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    purpose TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notifications_pending ON notifications (status, created_at);
CREATE INDEX notifications_recipient ON notifications (recipient, purpose, created_at);

CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
