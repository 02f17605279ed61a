-- Failed sign-ins per (username, client address): each failure past the third makes that pair
-- wait longer (1 s, doubling up to 15 minutes); a success forgets them. The account itself is
-- never locked, so that nobody can lock its owner out.
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    blocked_until TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_blocked ON sign_in_failures (blocked_until);
UPDATE accounts SET locked_until = NULL, failed_logins = 0;
