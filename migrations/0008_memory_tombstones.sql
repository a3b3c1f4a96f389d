-- Forgotten memories stay forgotten: one row per forgotten source (a
-- transcript turn `claude:<session>:<turn>`, or an imported line's hash
-- `jsonl:<sha256>`). Imports and the save hook skip these sources, and team
-- sync carries the rows so other machines skip them too. The id is derived
-- from the source key (its SHA-256), so two machines forgetting the same
-- source converge on one entity.
CREATE TABLE memory_tombstones (
    id           TEXT PRIMARY KEY,
    source_key   TEXT NOT NULL UNIQUE,
    forgotten_at INTEGER NOT NULL
) STRICT;
