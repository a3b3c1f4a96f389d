-- Corrections to work records. A client can be archived: hidden from lists,
-- kept (with its sessions) for reports. Every edit, rename, archive and
-- delete of a session, client, project or task leaves a row here with the
-- old and new values of what changed; rows are only ever inserted, and they
-- sync, so the team sees who corrected what on which machine.

ALTER TABLE clients ADD COLUMN archived_at INTEGER;

CREATE TABLE work_audit (
    id         TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    machine_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('session', 'client', 'project', 'task')),
    entity_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    -- JSON objects of the fields that changed; `{}` for none (a new or a gone row).
    old_values TEXT NOT NULL DEFAULT '{}',
    new_values TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX work_audit_entity ON work_audit(entity_id, at);
CREATE INDEX work_audit_at ON work_audit(at);
