ALTER TABLE refresh_tokens DROP COLUMN assurance;
ALTER TABLE procedures DROP COLUMN min_assurance_level;
DROP TABLE federated_identities;
DROP TABLE oidc_states;
