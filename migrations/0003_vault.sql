-- Credential vault: one vault per store. Secret values are only ever stored
-- sealed (AES-256-GCM); everything here in plain text is metadata. See the
-- README section "Credential vault" and src/vault/ for the formats.

-- The vault itself: one row. The random data key is stored wrapped by a key
-- derived from the passphrase (Argon2id, parameters and salt here).
CREATE TABLE vault_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id        TEXT NOT NULL,
    kdf             TEXT NOT NULL CHECK (kdf = 'argon2id-v19'),
    kdf_memory_kib  INTEGER NOT NULL,
    kdf_iterations  INTEGER NOT NULL,
    kdf_parallelism INTEGER NOT NULL,
    kdf_salt        BLOB NOT NULL,
    wrap_nonce      BLOB NOT NULL,
    wrapped_key     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- The same data key wrapped by the random key of a key file (unattended
-- unlock). The file holds the key; this row holds what it unlocks.
CREATE TABLE vault_key_files (
    id          TEXT PRIMARY KEY,
    wrap_nonce  BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_credentials (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE RESTRICT,
    name       TEXT NOT NULL COLLATE NOCASE,
    cred_type  TEXT NOT NULL DEFAULT 'password'
               CHECK (cred_type IN ('password', 'api_key', 'oauth', 'ssh_key', 'shared_secret',
                                    'jwt', 'connection_string', 'certificate')),
    username   TEXT,
    url        TEXT,
    notes      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    -- HMAC (data-key subkey) over the metadata and the current version of
    -- every field, so an edited row or a rolled-back field is detected.
    mac        BLOB NOT NULL,
    UNIQUE (client_id, name)
) STRICT;

-- One row per kept version of a field's value, sealed with AES-256-GCM.
CREATE TABLE vault_values (
    credential_id TEXT NOT NULL REFERENCES vault_credentials(id) ON DELETE CASCADE,
    field         TEXT NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    nonce         BLOB NOT NULL,
    ciphertext    BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    machine_id    TEXT,
    PRIMARY KEY (credential_id, field, version)
) STRICT;

-- For transcript redaction without the data key: HMAC-SHA256 of each kept
-- value under the redaction key (a file beside the store, never in it),
-- and the value's length in bytes.
CREATE TABLE vault_redaction (
    credential_id TEXT NOT NULL REFERENCES vault_credentials(id) ON DELETE CASCADE,
    field         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    len           INTEGER NOT NULL,
    mac           BLOB NOT NULL,
    PRIMARY KEY (credential_id, field, version)
) STRICT;

-- Every access, chained: mac = HMAC(audit subkey of the data key, entry ||
-- previous mac) when `keyed` is 'vault'. A failed unlock has no key: it is
-- chained with SHA-256 alone ('none') and sealed by the next keyed entry.
CREATE TABLE vault_audit (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    machine_id    TEXT,
    os_user       TEXT NOT NULL,
    action        TEXT NOT NULL,
    credential    TEXT,
    credential_id TEXT,
    detail        TEXT NOT NULL DEFAULT '',
    keyed         TEXT NOT NULL CHECK (keyed IN ('vault', 'none')),
    mac           BLOB NOT NULL
) STRICT;
CREATE INDEX vault_audit_credential ON vault_audit(credential_id, seq);

-- The head of the audit chain, kept apart from the entries so that deleting
-- the newest entries is detected: the last keyed entry, sealed by
-- tag = HMAC(audit subkey, seq || mac), and the number of entries written.
CREATE TABLE vault_audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    vault_seq INTEGER NOT NULL,
    vault_tag BLOB NOT NULL,
    last_seq  INTEGER NOT NULL
) STRICT;
