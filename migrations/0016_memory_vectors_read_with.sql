-- A memory's vector may be made from its text and the body of the memory
-- written just before it in its project, when the two are about the same
-- thing: a reply is read with what it answers, a fix with the fault found.
-- `read_with` is that memory's seq (NULL: read alone). When its text
-- changes or it is forgotten, the vectors made with it go too, and the
-- next `msp context embed` makes them again: nothing of an old text stays
-- in a vector.
-- `recipe` says how the text a vector was made from is put together;
-- vectors of an older recipe (1: the memory alone, before this) are made
-- again by `msp context embed`, and serve recall until then.

ALTER TABLE memory_vectors ADD COLUMN read_with INTEGER;
ALTER TABLE memory_vectors ADD COLUMN recipe INTEGER NOT NULL DEFAULT 1;

CREATE INDEX memory_vectors_read_with ON memory_vectors(read_with) WHERE read_with IS NOT NULL;

DROP TRIGGER memory_vectors_stale;

CREATE TRIGGER memory_vectors_stale AFTER UPDATE OF title, body ON memories
WHEN NEW.title IS NOT OLD.title OR NEW.body IS NOT OLD.body
BEGIN
    DELETE FROM memory_vectors WHERE memory_seq = NEW.seq OR read_with = NEW.seq;
END;

CREATE TRIGGER memory_vectors_read_with_gone AFTER DELETE ON memories
BEGIN
    DELETE FROM memory_vectors WHERE read_with = OLD.seq;
END;
