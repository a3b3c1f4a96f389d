-- Tickets in a PSA: the configured provider account, links from work
-- sessions to tickets, the outbox every write goes through, and a record of
-- every call made to the provider. Times are UTC unix milliseconds.

-- One row per configured provider. The API key stays in the vault: only its
-- reference (msp://CLIENT/ITEM/FIELD) is kept here.
CREATE TABLE ticket_providers (
    name        TEXT PRIMARY KEY CHECK (name IN ('syncro')),
    base_url    TEXT NOT NULL,
    api_key_ref TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE ticket_links (
    id         TEXT PRIMARY KEY,
    provider   TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    link_type  TEXT NOT NULL DEFAULT 'related'
               CHECK (link_type IN ('related', 'resolves', 'documents', 'caused_by')),
    auto_sync  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (provider, ticket_id, session_id)
) STRICT;
CREATE INDEX ticket_links_session ON ticket_links(session_id);

-- Writes to the provider. `id` is the local id the posted note carries as
-- its marker (`msp:<id>`), so a write whose outcome is unknown (timeout,
-- 5xx, a crash after posting) is looked for on the ticket before it is
-- posted again. 'sending' left behind means a process died mid-write.
CREATE TABLE ticket_outbox (
    id         TEXT PRIMARY KEY,
    provider   TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('note', 'time')),
    session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
    payload    TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    remote_id  TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at    INTEGER
) STRICT;
-- A session's note (or time) goes to a ticket once.
CREATE UNIQUE INDEX ticket_outbox_once_per_session
    ON ticket_outbox(provider, ticket_id, kind, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX ticket_outbox_open ON ticket_outbox(status) WHERE status IN ('pending', 'sending');

-- Every call to a provider: what was sent (secrets masked), the answer's
-- status, how long it took and which retry it was. A row is written before
-- the call (it reserves a slot under the provider's rate limit, shared by
-- every process and every key) and completed after it; `key_id` names the
-- key used (its vault reference, never the key).
CREATE TABLE external_integrations (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    key_id        TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    request_body  TEXT,
    status        INTEGER,
    error         TEXT,
    duration_ms   INTEGER,
    retry         INTEGER NOT NULL DEFAULT 0,
    outbox_id     TEXT,
    blocked_until INTEGER,
    started_at    INTEGER NOT NULL
) STRICT;
-- The rate limit counts a provider's calls in the last minute (Syncro limits
-- per IP address, so every key of the provider shares it).
CREATE INDEX external_integrations_provider_time ON external_integrations(provider, started_at);
CREATE INDEX external_integrations_started ON external_integrations(started_at);
