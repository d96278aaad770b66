-- Tokens `pipetrack admin new-token` replaced, by their hash (a token itself is never
-- stored): a request that still carries one is refused as before, and its log line
-- names whose token it was, so the admin sees an old or leaked token still in use.
CREATE TABLE replaced_tokens (
    token_hash  CHAR(64) PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    replaced_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
