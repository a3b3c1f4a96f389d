//! The local store: one SQLite file per machine, opened the same way
//! everywhere (WAL, `synchronous=NORMAL`, foreign keys, busy timeout).
//!
//! Migrations are numbered SQL files in `migrations/`, compiled in, applied by
//! `msp` commands and tracked in `PRAGMA user_version`. The hooks never
//! migrate: they open with [`Store::open_for_hook`], which checks the version
//! and bails out when it is not the one this binary knows.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};

use crate::error::{Error, Result};

pub mod synced;

/// What every module function takes: one connection to the local store.
pub type Db = SqliteConnection;

/// (version, name, SQL). Append only; never edit a landed migration.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "memory",
        include_str!("../../migrations/0002_memory.sql"),
    ),
    (3, "vault", include_str!("../../migrations/0003_vault.sql")),
    (4, "sync", include_str!("../../migrations/0004_sync.sql")),
    (
        5,
        "tickets",
        include_str!("../../migrations/0005_tickets.sql"),
    ),
    (6, "agent", include_str!("../../migrations/0006_agent.sql")),
    (
        7,
        "temp_triggers",
        include_str!("../../migrations/0007_temp_triggers.sql"),
    ),
    (
        8,
        "memory_tombstones",
        include_str!("../../migrations/0008_memory_tombstones.sql"),
    ),
    (
        9,
        "corrections",
        include_str!("../../migrations/0009_corrections.sql"),
    ),
    (
        10,
        "memory_vectors",
        include_str!("../../migrations/0010_memory_vectors.sql"),
    ),
    (
        11,
        "agent_cmd_shell",
        include_str!("../../migrations/0011_agent_cmd_shell.sql"),
    ),
    (
        12,
        "memory_lifecycle",
        include_str!("../../migrations/0012_memory_lifecycle.sql"),
    ),
    (
        13,
        "memory_vectors_by_scope",
        include_str!("../../migrations/0013_memory_vectors_by_scope.sql"),
    ),
    (
        14,
        "memory_vector_centres",
        include_str!("../../migrations/0014_memory_vector_centres.sql"),
    ),
    (
        15,
        "memory_vector_crowding",
        include_str!("../../migrations/0015_memory_vector_crowding.sql"),
    ),
    (
        16,
        "memory_vectors_read_with",
        include_str!("../../migrations/0016_memory_vectors_read_with.sql"),
    ),
    (
        17,
        "memory_hand_tags",
        include_str!("../../migrations/0017_memory_hand_tags.sql"),
    ),
];

/// The schema version this binary reads and writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// How long a writer waits for another before giving up. Hooks and the CLI
/// may write at once; WAL lets readers go on while one writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Store {
    conn: SqliteConnection,
    path: PathBuf,
    /// Whether this open created the store (it had no schema before).
    created: bool,
}

impl Store {
    /// Whether this open created the store: it holds nothing older than
    /// this msp's rules.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Opens (creating if needed) and migrates the store: the CLI's way in.
    pub async fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            // The cause goes before the hint, so the hint stays the last line.
            crate::files::create_private_dir(dir).map_err(|e| {
                Error::Other(format!(
                    "cannot create the data directory {}: {e}",
                    dir.display()
                ))
                .with_hint("set MSP_DATA_DIR to a writable directory")
            })?;
        }
        // SQLite would create the file 0644 less the umask, and gives its
        // -wal and -shm the database file's mode: an owner-only empty file
        // first makes all three owner-only. (Not fatal: opening reports why.)
        let _ = crate::files::precreate_private(path);
        let mut conn = connect(path, true, BUSY_TIMEOUT, Durability::Normal)
            .await
            .map_err(|e| open_error(path, e))?;
        let created = user_version(&mut conn).await? == 0;
        migrate(&mut conn).await?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            created,
        };
        store.track_changes().await?;
        Ok(store)
    }

    /// Creates this connection's sync change triggers (TEMP, see
    /// `synced::triggers_sql`). Every connection that writes synced tables
    /// needs them: [`Store::open`] creates them; a hook calls this before it
    /// writes.
    pub async fn track_changes(&mut self) -> Result<()> {
        sqlx::raw_sql(synced::triggers_sql())
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    /// Opens an existing store without creating or migrating anything, and
    /// fails unless its schema is exactly [`SCHEMA_VERSION`]. For the hooks,
    /// which must stay fast and must never change the schema.
    pub async fn open_for_hook(
        path: &Path,
        busy_timeout: Duration,
        durability: Durability,
    ) -> Result<Store> {
        // An empty file is no store; opening it would write a header into it.
        if std::fs::metadata(path)
            .map(|m| m.len() == 0)
            .unwrap_or(true)
        {
            return Err(Error::Schema(format!("no store at {}", path.display())));
        }
        let mut conn = connect(path, false, busy_timeout, durability).await?;
        let version = user_version(&mut conn).await?;
        if version != SCHEMA_VERSION {
            return Err(Error::Schema(format!(
                "store schema {version}, this binary knows {SCHEMA_VERSION}"
            )));
        }
        Ok(Store {
            conn,
            path: path.to_owned(),
            created: false,
        })
    }

    /// Reads the schema version of a store without changing it (for doctor).
    pub async fn peek_version(path: &Path) -> Result<i64> {
        let mut conn = connect(path, false, BUSY_TIMEOUT, Durability::Normal).await?;
        user_version(&mut conn).await
    }

    pub fn db(&mut self) -> &mut Db {
        &mut self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connection. The last connection to close checkpoints the
    /// WAL into the database: leaving it open instead (tried for the hooks)
    /// makes the next process rebuild the WAL index from a growing WAL,
    /// which costs more than the checkpoint.
    pub async fn close(self) -> Result<()> {
        self.conn.close().await?;
        Ok(())
    }
}

/// How a commit survives failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a commit survives msp crashing,
    /// and the last ones may be lost if the machine stops.
    Normal,
    /// `synchronous=FULL`: the WAL is synced on each commit, so a commit
    /// survives the machine stopping right after it (the save hook).
    Full,
}

async fn connect(
    path: &Path,
    create: bool,
    busy_timeout: Duration,
    durability: Durability,
) -> Result<SqliteConnection> {
    let synchronous = match durability {
        Durability::Normal => SqliteSynchronous::Normal,
        Durability::Full => SqliteSynchronous::Full,
    };
    let mut options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(create)
        .synchronous(synchronous)
        .foreign_keys(true)
        .busy_timeout(busy_timeout)
        // Set once here: changing temp_store later drops the connection's
        // TEMP triggers (the sync change tracking).
        .pragma("temp_store", "memory")
        // Deleted content is overwritten with zeros, not left in free pages:
        // a forgotten memory must not stay readable in the file.
        .pragma("secure_delete", "ON");
    // WAL is a property of the file, set once by whoever creates or migrates
    // it; the hooks skip that round trip.
    if create {
        options = options.journal_mode(SqliteJournalMode::Wal);
    }
    Ok(SqliteConnection::connect_with(&options).await?)
}

fn open_error(path: &Path, e: Error) -> Error {
    // Busy keeps its own code (4) and hint.
    if let Error::Busy(_) = e.kind() {
        return e;
    }
    Error::Other(format!("cannot open the store {}: {e}", path.display()))
        .with_hint("check that the directory is writable, or set MSP_DATA_DIR")
}

async fn user_version(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(conn)
        .await?)
}

/// Applies every migration newer than the store, each in its own immediate
/// transaction that re-reads the version, so two processes migrating at once
/// apply each step exactly once.
async fn migrate(conn: &mut SqliteConnection) -> Result<()> {
    let current = user_version(conn).await?;
    if current > SCHEMA_VERSION {
        return Err(Error::Schema(format!(
            "the store has schema {current}, newer than this msp knows ({SCHEMA_VERSION})"
        ))
        .with_hint("install the newer msp (./install.sh)"));
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let now_at: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await?;
        if now_at >= version {
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::Schema(format!("migration {version:04}_{name} failed: {e}")))?;
        // PRAGMA takes no bound parameters; the version is our own constant.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA user_version = {version}"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Copies the WAL into the database and truncates it to zero bytes, so what
/// was deleted is not left in old WAL frames. Returns false when another
/// connection kept it from finishing (it then finishes at the next
/// checkpoint, at the latest when the last connection closes).
pub async fn checkpoint_truncate(db: &mut Db) -> Result<bool> {
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(db)
        .await?;
    Ok(busy == 0)
}

/// Begins a write transaction that takes the write lock at once, so a
/// read-then-write cannot fail half way with "database is locked".
pub async fn begin_write(db: &mut Db) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

/// Reads a value from the store's small key/value table.
pub async fn get_state(db: &mut Db, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM local_state WHERE key = ?")
            .bind(key)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_state(db: &mut Db, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO local_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A migrated store in a temp dir, kept alive by the returned guard.
    pub async fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("msp.db")).await.unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of PRAGMA `name` on this connection.
    async fn pragma<T>(db: &mut Db, name: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + Unpin,
    {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn open_migrates_to_the_current_version_and_is_idempotent() {
        let (dir, store) = testing::temp_store().await;
        store.close().await.unwrap();
        let path = dir.path().join("msp.db");
        assert_eq!(Store::peek_version(&path).await.unwrap(), SCHEMA_VERSION);
        let mut again = Store::open(&path).await.unwrap();
        let mode: String = pragma(again.db(), "journal_mode").await;
        assert_eq!(mode, "wal");
        let fk: i64 = pragma(again.db(), "foreign_keys").await;
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn the_cmd_shell_migration_keeps_commands_approvals_and_results() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msp.db");
        {
            let mut conn = store_at(&path, 10).await;
            sqlx::raw_sql(
                "INSERT INTO machines (id, fingerprint, hostname, platform, username, home_directory,
                     created_at, updated_at, last_seen_at) VALUES ('m1', 'f1', 'h', 'linux', 'u', '/h', 1, 1, 1);
                 INSERT INTO agent_commands (id, requester_machine_id, requested_by, target_machine_id,
                     program, shell, timeout_ms, max_output, created_at, expires_at, nonce, key_kind, signature)
                     VALUES ('c1', 'm1', 'u', 'm1', 'ls', 'pwsh', 1, 1, 1, 2, 'n1', 'team', 'sig');
                 INSERT INTO agent_approvals (id, command_id, machine_id, approved_by, created_at, signature)
                     VALUES ('a1', 'c1', 'm1', 'u', 1, 's');
                 INSERT INTO agent_results (id, machine_id, status, updated_at) VALUES ('c1', 'm1', 'completed', 1);",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let mut store = Store::open(&path).await.unwrap();
        let db = store.db();
        let kept: (String, String, String) = sqlx::query_as(
            "SELECT c.shell, a.id, r.status FROM agent_commands c
             JOIN agent_approvals a ON a.command_id = c.id JOIN agent_results r ON r.id = c.id",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        assert_eq!(kept, ("pwsh".into(), "a1".into(), "completed".into()));
        sqlx::raw_sql(
            "INSERT INTO agent_commands (id, requester_machine_id, requested_by, target_machine_id,
                 program, shell, timeout_ms, max_output, created_at, expires_at, nonce, key_kind, signature)
                 VALUES ('c2', 'm1', 'u', 'm1', 'dir', 'cmd', 1, 1, 1, 2, 'n2', 'team', 'sig')",
        )
        .execute(&mut *db)
        .await
        .unwrap();
        let fk_errors: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut *db)
                .await
                .unwrap();
        assert!(fk_errors.is_empty(), "{fk_errors:?}");
    }

    /// A store at schema `version`, as an older msp left it.
    async fn store_at(path: &Path, version: i64) -> SqliteConnection {
        let mut conn = connect(path, true, BUSY_TIMEOUT, Durability::Normal)
            .await
            .unwrap();
        for &(v, _, sql) in MIGRATIONS.iter().filter(|m| m.0 <= version) {
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {v}")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }

    #[tokio::test]
    async fn the_vectors_by_scope_migration_keeps_vectors_and_their_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msp.db");
        {
            let mut conn = store_at(&path, 12).await;
            sqlx::raw_sql(
                "INSERT INTO clients (id, name, slug, created_at, updated_at) VALUES
                     ('c1', 'One', 'one', 1, 1), ('c2', 'Two', 'two', 1, 1);
                 INSERT INTO memories (seq, id, title, body, client_id, created_at) VALUES
                     (1, 'm1', 'a', 'b', 'c1', 1), (2, 'm2', 'c', 'd', NULL, 1), (3, 'm3', 'e', 'f', 'c2', 1);
                 INSERT INTO memory_vectors (memory_seq, model, client_id, project_id, kind, scale, vector) VALUES
                     (1, 'enc', 'c1', NULL, 'note', 0.5, x'0102'),
                     (2, 'enc', NULL, NULL, 'note', 0.25, x'0304'),
                     (3, 'enc', 'c2', NULL, 'note', 0.125, x'0506');",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let mut store = Store::open(&path).await.unwrap();
        let db = store.db();
        let rows = async |db: &mut Db| -> Vec<(i64, String, f64, Vec<u8>)> {
            sqlx::query_as(
                "SELECT memory_seq, client, scale, vector FROM memory_vectors ORDER BY memory_seq",
            )
            .fetch_all(db)
            .await
            .unwrap()
        };
        assert_eq!(
            rows(db).await,
            [
                (1, "c1".into(), 0.5, vec![1, 2]),
                (2, String::new(), 0.25, vec![3, 4]),
                (3, "c2".into(), 0.125, vec![5, 6]),
            ]
        );
        // A memory that moves to a client moves its vector; one whose text
        // changes loses it; one forgotten takes it along.
        sqlx::raw_sql(
            "UPDATE memories SET client_id = 'c2' WHERE seq = 2;
             UPDATE memories SET body = 'changed' WHERE seq = 1;
             DELETE FROM memories WHERE seq = 3;",
        )
        .execute(&mut *db)
        .await
        .unwrap();
        assert_eq!(rows(db).await, [(2, "c2".into(), 0.25, vec![3, 4])]);
        let fk_errors: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut *db)
                .await
                .unwrap();
        assert!(fk_errors.is_empty(), "{fk_errors:?}");
    }

    #[tokio::test]
    async fn the_read_with_migration_keeps_vectors_to_be_made_again_by_the_new_recipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msp.db");
        {
            let mut conn = store_at(&path, 15).await;
            sqlx::raw_sql(
                "INSERT INTO memories (seq, id, title, body, created_at) VALUES
                     (1, 'm1', 'a', 'b', 1), (2, 'm2', 'c', 'd', 2);
                 INSERT INTO memory_vectors (memory_seq, model, client, project_id, kind, scale, vector) VALUES
                     (1, 'enc', '', NULL, 'note', 0.5, x'0102'),
                     (2, 'enc', '', NULL, 'note', 0.25, x'0304');",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        let mut store = Store::open(&path).await.unwrap();
        let db = store.db();
        // Kept, so that recall by meaning goes on, and marked as made by the
        // memory alone: `msp context embed` makes them again.
        let rows: Vec<(i64, Option<i64>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT memory_seq, read_with, recipe, vector FROM memory_vectors ORDER BY memory_seq",
        )
        .fetch_all(&mut *db)
        .await
        .unwrap();
        assert_eq!(rows, [(1, None, 1, vec![1, 2]), (2, None, 1, vec![3, 4])]);
        // The text trigger still drops a memory's own vector.
        sqlx::raw_sql("UPDATE memories SET body = 'changed' WHERE seq = 1")
            .execute(&mut *db)
            .await
            .unwrap();
        let left: Vec<i64> = sqlx::query_scalar("SELECT memory_seq FROM memory_vectors")
            .fetch_all(&mut *db)
            .await
            .unwrap();
        assert_eq!(left, [2]);
    }

    #[tokio::test]
    async fn hook_open_refuses_a_missing_or_old_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msp.db");
        assert!(matches!(
            Store::open_for_hook(&path, BUSY_TIMEOUT, Durability::Normal)
                .await
                .map_err(Error::into_kind),
            Err(Error::Schema(_))
        ));
        assert!(!path.exists(), "the hook must not create a store");
        let mut conn = connect(&path, true, BUSY_TIMEOUT, Durability::Normal)
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE t(x)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        assert!(matches!(
            Store::open_for_hook(&path, BUSY_TIMEOUT, Durability::Normal)
                .await
                .map_err(Error::into_kind),
            Err(Error::Schema(_))
        ));
    }

    #[tokio::test]
    async fn hook_durability_sets_synchronous() {
        let (dir, store) = testing::temp_store().await;
        let path = store.path().to_owned();
        store.close().await.unwrap();
        for (durability, expected) in [(Durability::Normal, 1), (Durability::Full, 2)] {
            let mut s = Store::open_for_hook(&path, BUSY_TIMEOUT, durability)
                .await
                .unwrap();
            let sync: i64 = pragma(s.db(), "synchronous").await;
            assert_eq!(sync, expected, "{durability:?}");
        }
        drop(dir);
    }

    #[tokio::test]
    async fn every_connection_overwrites_what_it_deletes() {
        let (_dir, mut store) = testing::temp_store().await;
        let path = store.path().to_owned();
        let on: i64 = pragma(store.db(), "secure_delete").await;
        assert_eq!(on, 1, "Store::open");
        let mut hook = Store::open_for_hook(&path, BUSY_TIMEOUT, Durability::Full)
            .await
            .unwrap();
        let on: i64 = pragma(hook.db(), "secure_delete").await;
        assert_eq!(on, 1, "Store::open_for_hook");
    }

    #[tokio::test]
    async fn newer_store_is_refused_with_a_hint() {
        let (dir, mut store) = testing::temp_store().await;
        sqlx::raw_sql("PRAGMA user_version = 999")
            .execute(store.db())
            .await
            .unwrap();
        store.close().await.unwrap();
        let err = Store::open(&dir.path().join("msp.db")).await.err().unwrap();
        assert!(err.hint().is_some(), "{err}");
    }

    #[tokio::test]
    async fn local_state_round_trips() {
        let (_dir, mut store) = testing::temp_store().await;
        assert_eq!(get_state(store.db(), "k").await.unwrap(), None);
        set_state(store.db(), "k", "v1").await.unwrap();
        set_state(store.db(), "k", "v2").await.unwrap();
        assert_eq!(
            get_state(store.db(), "k").await.unwrap().as_deref(),
            Some("v2")
        );
    }
}
