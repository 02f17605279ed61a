-- Messages go out over several channels in a configured order, with delivery status.
ALTER TABLE notifications ADD COLUMN phone TEXT;
ALTER TABLE notifications ADD COLUMN email TEXT;
-- The channels to try, in order (comma-separated), and which of them is being tried.
ALTER TABLE notifications ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN channel_attempts INTEGER NOT NULL DEFAULT 0;
-- What the template is filled with (JSON); an OTP's code is dropped once the message is done.
ALTER TABLE notifications ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE notifications ADD COLUMN language TEXT NOT NULL DEFAULT 'vi';
ALTER TABLE notifications ADD COLUMN provider_id TEXT;
ALTER TABLE notifications ADD COLUMN last_error TEXT;
-- When the message is due next; while it is being sent, when the sender's claim runs out.
ALTER TABLE notifications ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN delivered_at TIMESTAMP;

UPDATE notifications SET status = 'created', next_attempt_at = created_at WHERE status = 'pending';
UPDATE notifications SET status = 'delivered', delivered_at = sent_at WHERE status = 'sent';
UPDATE notifications SET status = 'permanent_failure' WHERE status = 'failed';
UPDATE notifications SET plan = channel, phone = CASE WHEN channel = 'sms' THEN recipient END,
    email = CASE WHEN channel = 'email' THEN recipient END, updated_at = created_at;

DROP INDEX notifications_pending;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_provider ON notifications (channel, provider_id);

-- Access tokens of providers that issue them (Zalo), shared by every server; the refresh token
-- is used once, so one server at a time refreshes it.
CREATE TABLE provider_tokens (
    provider TEXT PRIMARY KEY NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    refreshing_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
