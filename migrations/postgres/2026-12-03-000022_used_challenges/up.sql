-- Solved proof-of-work challenges, kept until they expire so that each is used once on any server.
CREATE TABLE used_challenges (
    challenge TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX used_challenges_expiry ON used_challenges (expires_at);
