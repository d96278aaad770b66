-- Each row keeps its wire JSON (protocol.wire TargetState / AuditEntry) in `wire`,
-- written when the row is written: a row is written once and pulled by every device,
-- so a pull only joins stored texts (server/pull.py).
--
-- The one definition of the format: pipetrack_target_wire / pipetrack_audit_wire,
-- applied by BEFORE triggers, so no writer (push, seeds, tests) can leave `wire` stale.
-- Same field names, order and formats as pydantic's JSON: row_to_json of a composite
-- (keys in the type's order, no spaces); times as pydantic writes an aware UTC datetime.

-- `...:SSZ`, or `...:SS.ffffffZ` when the time has a fraction of a second.
CREATE FUNCTION pipetrack_utc_text(at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(at AT TIME ZONE 'UTC',
                 CASE WHEN date_trunc('second', at AT TIME ZONE 'UTC') = at AT TIME ZONE 'UTC'
                      THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
                      ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)
$$;

CREATE TYPE pipetrack_target_json AS (
    uid uuid, name text, description text, markets text[], status text, version bigint,
    status_changed_at text, status_changed_by text, created_at text, last_updated text,
    updated_by text
);

CREATE TYPE pipetrack_audit_json AS (
    id bigint, change_id uuid, target uuid, op text, old_status text, new_status text,
    changed_at text, recorded_at text, changed_by text, device_id text, note text,
    version bigint
);

-- Single-expression SQL functions: inlined where they are called.
CREATE FUNCTION pipetrack_target_wire(t targets) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT row_to_json(ROW(t.uid, t.name, t.description, t.markets, t.pipeline_status,
                         t.version, pipetrack_utc_text(t.status_changed_at),
                         t.status_changed_by, pipetrack_utc_text(t.created_at),
                         pipetrack_utc_text(t.last_updated), t.updated_by
                        )::pipetrack_target_json)::text
$$;

-- An audit row also names its target's uid (for its wire JSON, without a lookup): the
-- foreign key (target_id, target_uid) keeps the pair right.
ALTER TABLE targets ADD CONSTRAINT targets_id_uid UNIQUE (id, uid);
ALTER TABLE audit_log ADD COLUMN target_uid uuid;
UPDATE audit_log a SET target_uid = t.uid FROM targets t WHERE t.id = a.target_id;
ALTER TABLE audit_log ALTER COLUMN target_uid SET NOT NULL,
  DROP CONSTRAINT audit_log_target_id_fkey,
  ADD CONSTRAINT audit_log_target FOREIGN KEY (target_id, target_uid)
      REFERENCES targets (id, uid);

CREATE FUNCTION pipetrack_audit_wire(a audit_log) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT row_to_json(ROW(a.id, a.change_id, a.target_uid, a.op, a.old_status, a.new_status,
                         pipetrack_utc_text(a.change_timestamp),
                         pipetrack_utc_text(a.recorded_at), a.changed_by, a.device_id,
                         a.note, a.version
                        )::pipetrack_audit_json)::text
$$;

ALTER TABLE targets ADD COLUMN wire text;
ALTER TABLE audit_log ADD COLUMN wire text;

CREATE FUNCTION pipetrack_target_wire_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.wire := pipetrack_target_wire(NEW);
  RETURN NEW;
END
$$;

-- A writer that gives no target_uid gets it looked up (the push gives it: a lookup per
-- row would cost ~4 times the JSON). A row inserted earlier by the same statement (a
-- push's CTE creating the target) is visible here: a VOLATILE trigger function's
-- queries see the outer command's changes.
CREATE FUNCTION pipetrack_audit_wire_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.target_uid IS NULL THEN
    NEW.target_uid := (SELECT t.uid FROM targets t WHERE t.id = NEW.target_id);
  END IF;
  NEW.wire := pipetrack_audit_wire(NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER targets_wire BEFORE INSERT OR UPDATE ON targets
  FOR EACH ROW EXECUTE FUNCTION pipetrack_target_wire_trigger();
CREATE TRIGGER audit_log_wire BEFORE INSERT OR UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION pipetrack_audit_wire_trigger();

-- Existing rows: the triggers fill `wire` (xid is left as it is: the rows' keys and
-- contents do not change, so no device pulls them again).
UPDATE targets SET wire = NULL;
UPDATE audit_log SET wire = NULL;

ALTER TABLE targets ALTER COLUMN wire SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN wire SET NOT NULL;
