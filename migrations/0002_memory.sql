-- Memory: one row per remembered thing, a full-text index over normalised
-- (stemmed, stop-word-free) text, capture offsets per transcript, and what
-- each Claude session has already been given.

CREATE TABLE memories (
    seq               INTEGER PRIMARY KEY,   -- stable rowid for the index
    id                TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL DEFAULT 'note'
                      CHECK (kind IN ('session_summary', 'decision', 'fact', 'snippet', 'project_state', 'note')),
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    tags              TEXT NOT NULL DEFAULT '',   -- space-separated canonical tags
    project_id        TEXT REFERENCES projects(id) ON DELETE SET NULL,
    client_id         TEXT REFERENCES clients(id) ON DELETE SET NULL,
    machine_id        TEXT,
    source_key        TEXT UNIQUE,               -- what was captured; re-capture adds nothing
    source_path       TEXT,
    source_start      INTEGER,
    source_end        INTEGER,
    claude_session_id TEXT,
    importance        INTEGER NOT NULL DEFAULT 5 CHECK (importance BETWEEN 1 AND 10),
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    use_count         INTEGER NOT NULL DEFAULT 0,
    raw_tokens        INTEGER NOT NULL DEFAULT 0,
    stored_tokens     INTEGER NOT NULL DEFAULT 0,
    raw_bytes         INTEGER NOT NULL DEFAULT 0,  -- size of the captured conversational text
    tokens_exact      INTEGER NOT NULL DEFAULT 1,  -- 0: estimated by a hook, counted later
    excerpt           BLOB                       -- zstd of the redacted source excerpt
) STRICT;
CREATE INDEX memories_project ON memories(project_id, created_at);
CREATE INDEX memories_client ON memories(client_id, created_at);
CREATE INDEX memories_created ON memories(created_at);
CREATE INDEX memories_uncounted ON memories(seq) WHERE tokens_exact = 0;

-- Contentless: the text lives in `memories`; rowid = memories.seq. `scope`
-- holds `g` (no client) or `c_<client>` and `p_<project>` tokens, so the
-- scope filter runs inside the index and a ranked LIMIT stays correct.
CREATE VIRTUAL TABLE memory_index USING fts5(
    title, body, tags, scope,
    content = '', contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);
INSERT INTO memory_index(memory_index, rank) VALUES ('rank', 'bm25(3.0, 1.0, 2.0, 0.0)');
-- Documents per indexed term, kept in step with the index: choosing the
-- selective terms of a prompt needs these counts in microseconds, and
-- fts5vocab walks a term's whole posting list to count it.
CREATE TABLE memory_terms (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- How far each transcript has been captured.
CREATE TABLE capture_offsets (
    transcript_path   TEXT PRIMARY KEY,
    byte_offset       INTEGER NOT NULL,
    claude_session_id TEXT,
    updated_at        INTEGER NOT NULL
) STRICT;

-- Memories already injected into a Claude session (never inject twice).
CREATE TABLE recall_log (
    claude_session_id TEXT NOT NULL,
    memory_id         TEXT NOT NULL,
    injected_at       INTEGER NOT NULL,
    PRIMARY KEY (claude_session_id, memory_id)
) STRICT, WITHOUT ROWID;
