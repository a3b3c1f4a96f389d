-- How crowded each memory's neighbourhood is: the mean cosine of its ten
-- closest among a sample of the store's vectors. Routine work (a password
-- reset, a toner order) is written a hundred times over, so its vectors lie
-- close to a hundred others and near every prompt; recall by meaning takes
-- a share of this off a memory's cosine, so that what only one memory says
-- outranks what many say alike. This replaces measuring from the store's
-- centre (0014), which it outranks on both recall benchmarks. Worked out by
-- `msp context embed`; local to the machine, like the vectors.

DROP TABLE memory_vector_centres;

CREATE TABLE memory_vector_samples (
    model   TEXT PRIMARY KEY,   -- the encoder's id, as in memory_vectors
    vectors INTEGER NOT NULL,   -- how many vectors the sample was drawn from
    sample  BLOB NOT NULL       -- per vector: memory seq (i64 LE), scale (f32 LE), int8 values
) STRICT;

ALTER TABLE memory_vectors ADD COLUMN crowding REAL;   -- NULL: not worked out yet
