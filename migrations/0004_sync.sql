-- Team sync: the record log (this machine's own series and what was pulled
-- from the others), the entities changed since the last emit, and per
-- entity the (timestamp, machine) of the version that won. See src/sync/.

-- Entities changed locally since the last `msp sync` emitted them. Filled by
-- the triggers below, so no write site needs to know about sync; a delete is
-- a change whose row is gone (emitted as a tombstone).
CREATE TABLE sync_dirty (
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (kind, entity_id)
) STRICT, WITHOUT ROWID;

-- Holds a row only inside the transaction that applies pulled records, so
-- the triggers do not mistake those writes for local changes. Never
-- committed non-empty.
CREATE TABLE sync_applying (
    id INTEGER PRIMARY KEY CHECK (id = 1)
) STRICT;

-- Every record this machine knows: its own series (`sealed` is exactly what
-- the server holds: nonce || AES-256-GCM ciphertext) and those pulled, whose
-- bytes are kept only while they are not applied (a kind or format this msp
-- does not know, or waiting for an entity they refer to), to be retried by
-- every sync. entity_id and ts are filled once the record was opened. The
-- highest counter per machine is that machine's high-water mark.
CREATE TABLE sync_records (
    machine_id TEXT NOT NULL,
    counter    INTEGER NOT NULL CHECK (counter >= 1),
    record_id  TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    entity_id  TEXT,
    ts         INTEGER,
    sealed     BLOB NOT NULL,
    applied    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (machine_id, counter)
) STRICT;
CREATE INDEX sync_records_pending ON sync_records(applied) WHERE applied = 0;

-- Last writer wins: the (ts, machine_id) of the version each entity holds.
CREATE TABLE sync_entities (
    kind       TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    machine_id TEXT NOT NULL,
    PRIMARY KEY (kind, entity_id)
) STRICT, WITHOUT ROWID;
-- machines
CREATE TRIGGER sync_machines_ins AFTER INSERT ON machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_machines_upd AFTER UPDATE ON machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_machines_del AFTER DELETE ON machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'machine', id, updated_at FROM machines;

-- clients
CREATE TRIGGER sync_clients_ins AFTER INSERT ON clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_clients_upd AFTER UPDATE ON clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_clients_del AFTER DELETE ON clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'client', id, updated_at FROM clients;

-- projects
CREATE TRIGGER sync_projects_ins AFTER INSERT ON projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_projects_upd AFTER UPDATE ON projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_projects_del AFTER DELETE ON projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'project', id, updated_at FROM projects;

-- project_paths
CREATE TRIGGER sync_project_paths_ins AFTER INSERT ON project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_project_paths_upd AFTER UPDATE ON project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_project_paths_del AFTER DELETE ON project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'project_path', id, created_at FROM project_paths;

-- sessions
CREATE TRIGGER sync_sessions_ins AFTER INSERT ON sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_sessions_upd AFTER UPDATE ON sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_sessions_del AFTER DELETE ON sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'session', id, updated_at FROM sessions;

-- tasks
CREATE TRIGGER sync_tasks_ins AFTER INSERT ON tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_tasks_upd AFTER UPDATE ON tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_tasks_del AFTER DELETE ON tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'task', id, updated_at FROM tasks;

-- memories
CREATE TRIGGER sync_memories_ins AFTER INSERT ON memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_memories_upd AFTER UPDATE OF kind, title, body, tags, project_id, client_id, importance, source_key, excerpt ON memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_memories_del AFTER DELETE ON memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'memory', id, created_at FROM memories;

-- The vault: its wrapped key (one row), and each credential together with
-- the sealed versions of its values (one entity: the MAC covers them together).
CREATE TRIGGER sync_vault_meta_ins AFTER INSERT ON vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(NEW.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_meta_upd AFTER UPDATE ON vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(NEW.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_meta_del AFTER DELETE ON vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(OLD.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_credentials_ins AFTER INSERT ON vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_credentials_upd AFTER UPDATE ON vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_credentials_del AFTER DELETE ON vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_values_ins AFTER INSERT ON vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_values_upd AFTER UPDATE ON vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TRIGGER sync_vault_values_del AFTER DELETE ON vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', OLD.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'vault_meta', CAST(id AS TEXT), updated_at FROM vault_meta;
INSERT INTO sync_dirty (kind, entity_id, changed_at) SELECT 'vault_credential', id, updated_at FROM vault_credentials;
