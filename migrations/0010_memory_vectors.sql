-- Each memory's embedding by the sentence encoder (src/embed), for recall by
-- meaning. Derived on each machine from the memory's text and the encoder
-- named by `model`, never synced: a memory without one is still recalled by
-- its words, and `msp context embed` fills in what is missing. The memory's
-- client, project and kind are repeated here so that a prompt reads only
-- the vectors of its scope, not the memories' rows.

CREATE TABLE memory_vectors (
    memory_seq INTEGER PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
    model      TEXT NOT NULL,   -- the encoder's id (its source's SHA-256, shortened)
    client_id  TEXT,
    project_id TEXT,
    kind       TEXT NOT NULL,
    scale      REAL NOT NULL,   -- vector ≈ values × scale
    vector     BLOB NOT NULL    -- int8 values, one per dimension
) STRICT;
CREATE INDEX memory_vectors_client ON memory_vectors(model, client_id);
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
    UPDATE memory_vectors SET client_id = NEW.client_id, project_id = NEW.project_id, kind = NEW.kind
    WHERE memory_seq = NEW.seq;
END;
