-- The centre of each encoder's vectors: their mean over the store. Recall
-- by meaning measures a prompt and a memory from it, so that what nearly
-- every memory shares (the vocabulary of routine tickets) does not make
-- every memory look close. Worked out by `msp context embed`; local to the
-- machine, like the vectors.

CREATE TABLE memory_vector_centres (
    model   TEXT PRIMARY KEY,   -- the encoder's id, as in memory_vectors
    vectors INTEGER NOT NULL,   -- how many vectors the mean was taken over
    centre  BLOB NOT NULL       -- float32 little-endian, one per dimension
) STRICT;
