-- Change tracking for team sync: every write to a synced table marks the
-- entity in `sync_dirty`, unless pulled records are being applied
-- (`sync_applying`). TEMP triggers, created by each connection that writes
-- (`Store::track_changes`): the recall hook, which only reads, then does not
-- parse them before every prompt. A new synced kind adds its triggers here.

CREATE TEMP TRIGGER IF NOT EXISTS sync_machines_ins AFTER INSERT ON main.machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_machines_upd AFTER UPDATE ON main.machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_machines_del AFTER DELETE ON main.machines WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('machine', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_clients_ins AFTER INSERT ON main.clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_clients_upd AFTER UPDATE ON main.clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_clients_del AFTER DELETE ON main.clients WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('client', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_projects_ins AFTER INSERT ON main.projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_projects_upd AFTER UPDATE ON main.projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_projects_del AFTER DELETE ON main.projects WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_project_paths_ins AFTER INSERT ON main.project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_project_paths_upd AFTER UPDATE ON main.project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_project_paths_del AFTER DELETE ON main.project_paths WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('project_path', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_sessions_ins AFTER INSERT ON main.sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_sessions_upd AFTER UPDATE ON main.sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_sessions_del AFTER DELETE ON main.sessions WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('session', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_tasks_ins AFTER INSERT ON main.tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_tasks_upd AFTER UPDATE ON main.tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_tasks_del AFTER DELETE ON main.tasks WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('task', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_memories_ins AFTER INSERT ON main.memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_memories_upd AFTER UPDATE OF kind, title, body, tags, project_id, client_id, importance, source_key, excerpt ON main.memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_memories_del AFTER DELETE ON main.memories WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('memory', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_meta_ins AFTER INSERT ON main.vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(NEW.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_meta_upd AFTER UPDATE ON main.vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(NEW.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_meta_del AFTER DELETE ON main.vault_meta WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_meta', CAST(OLD.id AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_credentials_ins AFTER INSERT ON main.vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_credentials_upd AFTER UPDATE ON main.vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_credentials_del AFTER DELETE ON main.vault_credentials WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_values_ins AFTER INSERT ON main.vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_values_upd AFTER UPDATE ON main.vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', NEW.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_vault_values_del AFTER DELETE ON main.vault_values WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('vault_credential', OLD.credential_id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_commands_ins AFTER INSERT ON main.agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_commands_upd AFTER UPDATE ON main.agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_commands_del AFTER DELETE ON main.agent_commands WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_command', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_approvals_ins AFTER INSERT ON main.agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_approvals_upd AFTER UPDATE ON main.agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_approvals_del AFTER DELETE ON main.agent_approvals WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_approval', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_results_ins AFTER INSERT ON main.agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_results_upd AFTER UPDATE ON main.agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_results_del AFTER DELETE ON main.agent_results WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_result', OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
CREATE TEMP TRIGGER IF NOT EXISTS sync_agent_audit_ins AFTER INSERT ON main.agent_audit WHEN NOT EXISTS (SELECT 1 FROM sync_applying)
BEGIN
    INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('agent_audit', NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);
END;
