-- Vectors kept in scope order. A prompt reads the vectors of its client and
-- of no client; in a table ordered by memory they lie one or two to a page
-- among every other client's (memories are made client after client, all
-- day long), so a prompt read a page per memory of its scope. Keyed by
-- (model, client, memory) they lie together: a few runs of full pages.
-- `client` is the memory's client id, or '' for a memory of no client.

DROP TRIGGER memory_vectors_stale;
DROP TRIGGER memory_vectors_scope;

CREATE TABLE memory_vectors_by_scope (
    model      TEXT NOT NULL,   -- the encoder's id (its source's SHA-256, shortened)
    client     TEXT NOT NULL,   -- the memory's client id, '' for none
    memory_seq INTEGER NOT NULL REFERENCES memories(seq) ON DELETE CASCADE,
    project_id TEXT,
    kind       TEXT NOT NULL,
    scale      REAL NOT NULL,   -- vector ≈ values × scale
    vector     BLOB NOT NULL,   -- int8 values, one per dimension
    PRIMARY KEY (model, client, memory_seq)
) STRICT, WITHOUT ROWID;

INSERT INTO memory_vectors_by_scope (model, client, memory_seq, project_id, kind, scale, vector)
SELECT model, coalesce(client_id, ''), memory_seq, project_id, kind, scale, vector FROM memory_vectors;

DROP TABLE memory_vectors;
ALTER TABLE memory_vectors_by_scope RENAME TO memory_vectors;

-- One vector per memory; also what the cascade and the triggers look up.
CREATE UNIQUE INDEX memory_vectors_memory ON memory_vectors(memory_seq);
CREATE INDEX memory_vectors_project ON memory_vectors(model, project_id);

-- A memory whose text changes (scrub, a synced edit) loses its vector: the
-- next `msp context embed` makes a new one.
CREATE TRIGGER memory_vectors_stale AFTER UPDATE OF title, body ON memories
WHEN NEW.title IS NOT OLD.title OR NEW.body IS NOT OLD.body
BEGIN
    DELETE FROM memory_vectors WHERE memory_seq = NEW.seq;
END;

-- A memory that moves (its project to another client, a correction) moves
-- its vector's scope with it.
CREATE TRIGGER memory_vectors_scope AFTER UPDATE OF client_id, project_id, kind ON memories
BEGIN
    UPDATE memory_vectors SET client = coalesce(NEW.client_id, ''), project_id = NEW.project_id, kind = NEW.kind
    WHERE memory_seq = NEW.seq;
END;
