-- Agent commands: a signed queue of commands for registered machines, their
-- approvals, results and audit trail (all synced), and per machine the
-- ledger of command ids and nonces it ever took up (never synced). See
-- src/agent/.

-- A command as its requester signed it. Never changed after it was written:
-- any change breaks the signature. `key_kind` names the signing key: `team`
-- (HKDF subkey of the team key) or `local` (this machine's agent.key, only
-- for commands a machine sends itself).
CREATE TABLE agent_commands (
    id                   TEXT PRIMARY KEY,
    requester_machine_id TEXT NOT NULL REFERENCES machines(id),
    requested_by         TEXT NOT NULL,
    target_machine_id    TEXT NOT NULL REFERENCES machines(id),
    program              TEXT NOT NULL,
    args                 TEXT NOT NULL DEFAULT '[]',
    shell                TEXT CHECK (shell IN ('sh', 'bash', 'pwsh')),
    cwd                  TEXT,
    timeout_ms           INTEGER NOT NULL,
    max_output           INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    nonce                TEXT NOT NULL,
    key_kind             TEXT NOT NULL,
    signature            TEXT NOT NULL
) STRICT;
CREATE INDEX agent_commands_target ON agent_commands(target_machine_id, created_at);

-- An approval of one command by one machine, signed like the command.
CREATE TABLE agent_approvals (
    id          TEXT PRIMARY KEY,
    command_id  TEXT NOT NULL REFERENCES agent_commands(id),
    machine_id  TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    signature   TEXT NOT NULL
) STRICT;
CREATE INDEX agent_approvals_command ON agent_approvals(command_id);

-- What the target machine did with a command (no row: still pending); `id`
-- is the command's id. Written only by the target; output is capped and
-- redacted before it is stored.
CREATE TABLE agent_results (
    id          TEXT PRIMARY KEY REFERENCES agent_commands(id),
    machine_id  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN
                ('running', 'completed', 'failed', 'timed_out', 'expired', 'rejected', 'interrupted')),
    exit_code   INTEGER,
    stdout      TEXT NOT NULL DEFAULT '',
    stderr      TEXT NOT NULL DEFAULT '',
    truncated   INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    duration_ms INTEGER,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX agent_results_status ON agent_results(machine_id, status);

-- Every request, approval, pickup, verification failure, execution and
-- result, on whichever machine it happened. Append only.
CREATE TABLE agent_audit (
    id         TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    machine_id TEXT NOT NULL,
    command_id TEXT NOT NULL,
    event      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX agent_audit_command ON agent_audit(command_id, at);

-- This machine's memory of every command id and nonce it took up: a command
-- whose id or nonce is here never runs (again), whatever the synced tables
-- say. Written in the same transaction that marks a command running.
CREATE TABLE agent_ledger (
    command_id TEXT PRIMARY KEY,
    nonce      TEXT UNIQUE,
    at         INTEGER NOT NULL
) STRICT;

-- Change triggers for sync (see 0004_sync.sql).
CREATE TRIGGER sync_agent_commands_ins AFTER INSERT ON agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_commands_upd AFTER UPDATE ON agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_commands_del AFTER DELETE ON agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER sync_agent_approvals_ins AFTER INSERT ON agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_approvals_upd AFTER UPDATE ON agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_approvals_del AFTER DELETE ON agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER sync_agent_results_ins AFTER INSERT ON agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_results_upd AFTER UPDATE ON agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_agent_results_del AFTER DELETE ON agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER sync_agent_audit_ins AFTER INSERT ON agent_audit WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_audit', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
