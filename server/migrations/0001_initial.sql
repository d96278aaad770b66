-- pipetrack central schema (DESIGN.md, "Central schema").
--
-- Every row written by a push records the writing transaction's id (xid8) in `xid`;
-- the pull cursor walks (xid, id) with the snapshot's in-progress list, so a
-- transaction that commits after a later one is never skipped (server/pull.py).

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A random id of this database: pull cursors carry it, so a cursor handed out by
-- another database is refused instead of silently reused.
INSERT INTO server_meta (key, value)
VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE users (
    id         SERIAL PRIMARY KEY,
    name       VARCHAR(64) NOT NULL UNIQUE,
    token_hash CHAR(64) NOT NULL UNIQUE,  -- hex sha256 of the token; the token itself is never stored
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    disabled   BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE targets (
    id                SERIAL PRIMARY KEY,
    uid               UUID NOT NULL UNIQUE,
    name              VARCHAR(255) NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    pipeline_status   VARCHAR(20)
        CHECK (pipeline_status IN ('Passed', 'Cold', 'Active', 'Hot', 'Closed')),
    markets           TEXT[] NOT NULL DEFAULT '{}',
    version           BIGINT NOT NULL CHECK (version > 0),
    status_changed_at TIMESTAMPTZ,
    status_changed_by TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    last_updated      TIMESTAMPTZ NOT NULL,
    updated_by        TEXT,
    xid               xid8 NOT NULL DEFAULT pg_current_xact_id()
);

CREATE INDEX targets_pull ON targets (xid, id);

CREATE TABLE audit_log (
    id               BIGSERIAL PRIMARY KEY,
    target_id        INTEGER NOT NULL REFERENCES targets (id),
    change_id        UUID NOT NULL UNIQUE,
    op               VARCHAR(10) NOT NULL CHECK (op IN ('create', 'set_status', 'edit')),
    old_status       VARCHAR(20),
    new_status       VARCHAR(20),
    -- Which field group the change touched; a later change conflicts only with
    -- another device's change to the same group (server/push.py).
    touches_status   BOOLEAN NOT NULL,
    touches_details  BOOLEAN NOT NULL,
    version          BIGINT NOT NULL,
    change_timestamp TIMESTAMPTZ NOT NULL,  -- client clock, clamped to <= recorded_at
    recorded_at      TIMESTAMPTZ NOT NULL,
    changed_by       TEXT NOT NULL,         -- the authenticated user
    device_id        TEXT NOT NULL,
    note             TEXT,
    xid              xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (target_id, version)
);

CREATE INDEX audit_log_pull ON audit_log (xid, id);
-- The conflict check and per-target history read (target_id, version) ranges;
-- UNIQUE (target_id, version) above provides that index.
