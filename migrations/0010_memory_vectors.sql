-- Each memory's embedding by the sentence encoder (src/embed), for recall by
-- meaning. Derived on each machine from the memory's text and the encoder
-- named by `model`, never synced: a memory without one is still recalled by
-- its words, and `msp context embed` fills in what is missing.

CREATE TABLE memory_vectors (
    memory_seq INTEGER PRIMARY KEY REFERENCES memories(seq) ON DELETE CASCADE,
    model      TEXT NOT NULL,   -- the encoder's id (its source's SHA-256, shortened)
    scale      REAL NOT NULL,   -- vector ≈ values × scale
    vector     BLOB NOT NULL    -- int8 values, one per dimension
) STRICT;
CREATE INDEX memory_vectors_model ON memory_vectors(model);

-- A memory whose text changes (scrub, a synced edit) loses its vector: the
-- next `msp context embed` makes a new one.
CREATE TRIGGER memory_vectors_stale AFTER UPDATE OF title, body ON memories
WHEN NEW.title IS NOT OLD.title OR NEW.body IS NOT OLD.body
BEGIN
    DELETE FROM memory_vectors WHERE memory_seq = NEW.seq;
END;
