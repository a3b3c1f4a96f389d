-- `cmd` (Windows' cmd.exe) joins the shells an agent command may name.
-- SQLite cannot change a CHECK in place: the table is copied out, made anew
-- and copied back, rows unchanged (their signatures stay valid). Foreign
-- keys are checked at commit, when every approval and result has its
-- command again.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE agent_commands_copy AS SELECT * FROM main.agent_commands;
DROP TABLE main.agent_commands;
CREATE TABLE agent_commands (
    id                   TEXT PRIMARY KEY,
    requester_machine_id TEXT NOT NULL REFERENCES machines(id),
    requested_by         TEXT NOT NULL,
    target_machine_id    TEXT NOT NULL REFERENCES machines(id),
    program              TEXT NOT NULL,
    args                 TEXT NOT NULL DEFAULT '[]',
    shell                TEXT CHECK (shell IN ('sh', 'bash', 'pwsh', 'cmd')),
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
INSERT INTO main.agent_commands SELECT * FROM temp.agent_commands_copy;
DROP TABLE temp.agent_commands_copy;
