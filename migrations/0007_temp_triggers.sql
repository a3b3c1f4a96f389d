-- The sync change triggers become TEMP triggers created by the connections
-- that write (src/sync/triggers.sql): SQLite parses a database's whole
-- schema on every connection, and the recall hook, which runs before every
-- prompt and never writes, spent a third of its SQLite time parsing them.

DROP TRIGGER IF EXISTS sync_machines_ins;
DROP TRIGGER IF EXISTS sync_machines_upd;
DROP TRIGGER IF EXISTS sync_machines_del;
DROP TRIGGER IF EXISTS sync_clients_ins;
DROP TRIGGER IF EXISTS sync_clients_upd;
DROP TRIGGER IF EXISTS sync_clients_del;
DROP TRIGGER IF EXISTS sync_projects_ins;
DROP TRIGGER IF EXISTS sync_projects_upd;
DROP TRIGGER IF EXISTS sync_projects_del;
DROP TRIGGER IF EXISTS sync_project_paths_ins;
DROP TRIGGER IF EXISTS sync_project_paths_upd;
DROP TRIGGER IF EXISTS sync_project_paths_del;
DROP TRIGGER IF EXISTS sync_sessions_ins;
DROP TRIGGER IF EXISTS sync_sessions_upd;
DROP TRIGGER IF EXISTS sync_sessions_del;
DROP TRIGGER IF EXISTS sync_tasks_ins;
DROP TRIGGER IF EXISTS sync_tasks_upd;
DROP TRIGGER IF EXISTS sync_tasks_del;
DROP TRIGGER IF EXISTS sync_memories_ins;
DROP TRIGGER IF EXISTS sync_memories_upd;
DROP TRIGGER IF EXISTS sync_memories_del;
DROP TRIGGER IF EXISTS sync_vault_meta_ins;
DROP TRIGGER IF EXISTS sync_vault_meta_upd;
DROP TRIGGER IF EXISTS sync_vault_meta_del;
DROP TRIGGER IF EXISTS sync_vault_credentials_ins;
DROP TRIGGER IF EXISTS sync_vault_credentials_upd;
DROP TRIGGER IF EXISTS sync_vault_credentials_del;
DROP TRIGGER IF EXISTS sync_vault_values_ins;
DROP TRIGGER IF EXISTS sync_vault_values_upd;
DROP TRIGGER IF EXISTS sync_vault_values_del;
DROP TRIGGER IF EXISTS sync_agent_commands_ins;
DROP TRIGGER IF EXISTS sync_agent_commands_upd;
DROP TRIGGER IF EXISTS sync_agent_commands_del;
DROP TRIGGER IF EXISTS sync_agent_approvals_ins;
DROP TRIGGER IF EXISTS sync_agent_approvals_upd;
DROP TRIGGER IF EXISTS sync_agent_approvals_del;
DROP TRIGGER IF EXISTS sync_agent_results_ins;
DROP TRIGGER IF EXISTS sync_agent_results_upd;
DROP TRIGGER IF EXISTS sync_agent_results_del;
DROP TRIGGER IF EXISTS sync_agent_audit_ins;
