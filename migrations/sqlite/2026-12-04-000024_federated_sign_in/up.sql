-- Sign-in through OpenID Connect providers. A started sign-in waits here for the provider to send
-- the person back, so that any server can finish it, once: its state, nonce and PKCE verifier.
CREATE TABLE oidc_states (
    state TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oidc_states_created ON oidc_states (created_at);

-- Who a provider's subject is in dvc: linked at the first sign-in, by ID number or tax code.
CREATE TABLE federated_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    assurance_level INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX federated_identities_account ON federated_identities (account_id);

-- The assurance level a procedure requires of the person who files a dossier: 2 for those that
-- need an identity proved at VNeID's level 2 (or dvc's high assurance).
ALTER TABLE procedures ADD COLUMN min_assurance_level INTEGER NOT NULL DEFAULT 1;

-- The assurance a session was signed in at, when a provider vouched for it: its refreshed
-- tokens keep it (a person who once signed in at level 2 is not level 2 in every later session).
ALTER TABLE refresh_tokens ADD COLUMN assurance TEXT;
