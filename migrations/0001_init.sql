-- Foundation: this machine, machines, clients, projects, directory mapping,
-- work sessions, tasks. Times are UTC unix milliseconds; ids are UUIDv7 text.

CREATE TABLE local_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE machines (
    id                TEXT PRIMARY KEY,
    fingerprint       TEXT NOT NULL UNIQUE,
    hostname          TEXT NOT NULL,
    friendly_name     TEXT,
    machine_type      TEXT,
    platform          TEXT NOT NULL,
    os_version        TEXT,
    username          TEXT NOT NULL,
    home_directory    TEXT NOT NULL,
    preferred_shell   TEXT,
    tools             TEXT NOT NULL DEFAULT '{}',
    mcp_servers       TEXT NOT NULL DEFAULT '[]',
    skills            TEXT NOT NULL DEFAULT '[]',
    notes             TEXT,
    approval_required INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX machines_hostname ON machines(hostname);

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    slug        TEXT NOT NULL UNIQUE,
    client_type TEXT NOT NULL DEFAULT 'msp_client'
                CHECK (client_type IN ('msp_client', 'internal', 'project')),
    notes       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    client_id   TEXT REFERENCES clients(id) ON DELETE RESTRICT,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'paused', 'done', 'archived')),
    priority    TEXT NOT NULL DEFAULT 'normal'
                CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_client ON projects(client_id);

-- How a directory (on one machine) or a git remote (anywhere) maps to a project.
CREATE TABLE project_paths (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('dir', 'git_remote')),
    value      TEXT NOT NULL,
    machine_id TEXT NOT NULL DEFAULT '' ,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, value, machine_id)
) STRICT;
CREATE INDEX project_paths_project ON project_paths(project_id);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    machine_id        TEXT NOT NULL REFERENCES machines(id),
    client_id         TEXT REFERENCES clients(id),
    project_id        TEXT REFERENCES projects(id),
    title             TEXT,
    summary           TEXT,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER,
    billable          INTEGER NOT NULL DEFAULT 0,
    origin            TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'claude')),
    claude_session_id TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
) STRICT;
-- At most one open session per machine.
CREATE UNIQUE INDEX sessions_one_open_per_machine ON sessions(machine_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_started ON sessions(started_at);
CREATE INDEX sessions_client ON sessions(client_id);
CREATE INDEX sessions_project ON sessions(project_id);

CREATE TABLE session_tags (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (session_id, tag)
) STRICT;

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    client_id    TEXT REFERENCES clients(id),
    project_id   TEXT REFERENCES projects(id),
    session_id   TEXT REFERENCES sessions(id) ON DELETE SET NULL,
    priority     TEXT NOT NULL DEFAULT 'normal'
                 CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    due_date     TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    completed_at INTEGER
) STRICT;
CREATE INDEX tasks_status ON tasks(status);
