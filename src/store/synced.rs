//! Which tables team sync carries, declared once: one [`Spec`] per entity
//! kind (its table, the columns a record carries, and the tables whose writes
//! mark it for sync). `sync::entities` turns rows into records and back; the
//! change-tracking triggers are generated here from the same list.

/// One kind of synced entity.
pub struct Spec {
    pub kind: &'static str,
    pub table: &'static str,
    /// Columns a record carries (`id` first).
    pub cols: &'static [&'static str],
    /// Columns stored as BLOB, carried as hex.
    pub blobs: &'static [&'static str],
    /// More `'name', expression` pairs for the payload (read, not written back
    /// by the generic upsert).
    pub extra: &'static str,
    /// The tables whose writes mark an entity of this kind for sync.
    pub watch: &'static [Watch],
}

/// A table whose writes mark an entity for sync (by a TEMP trigger).
pub struct Watch {
    pub table: &'static str,
    /// The column holding the entity's id.
    pub entity: &'static str,
    /// Only updates of these columns count; `None`: every update.
    pub update_of: Option<&'static [&'static str]>,
    /// Rows are only ever inserted (an append-only log).
    pub append_only: bool,
    /// The id column is an INTEGER; `sync_dirty` keeps ids as text.
    pub integer_id: bool,
}

impl Watch {
    pub const fn table(table: &'static str) -> Watch {
        Watch {
            table,
            entity: "id",
            update_of: None,
            append_only: false,
            integer_id: false,
        }
    }

    pub const fn integer_id(self) -> Watch {
        Watch {
            integer_id: true,
            ..self
        }
    }

    pub const fn entity(self, column: &'static str) -> Watch {
        Watch {
            entity: column,
            ..self
        }
    }

    pub const fn update_of(self, columns: &'static [&'static str]) -> Watch {
        Watch {
            update_of: Some(columns),
            ..self
        }
    }

    pub const fn append_only(self) -> Watch {
        Watch {
            append_only: true,
            ..self
        }
    }
}

/// The change-tracking triggers for every watched table of [`SPECS`]: each
/// write marks the entity in `sync_dirty`, unless pulled records are being
/// applied (`sync_applying`). TEMP triggers, created by each connection that
/// writes (`Store::track_changes`), so the recall hook, which only reads,
/// does not parse them before every prompt. Built once per process.
pub fn triggers_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let mut sql = String::new();
        for spec in SPECS {
            for w in spec.watch {
                let events: &[(&str, &str, &str)] = if w.append_only {
                    &[("ins", "INSERT", "NEW")]
                } else {
                    &[("ins", "INSERT", "NEW"), ("upd", "UPDATE", "NEW"), ("del", "DELETE", "OLD")]
                };
                for (suffix, event, row) in events {
                    let id = match w.integer_id {
                        true => format!("CAST({row}.{} AS TEXT)", w.entity),
                        false => format!("{row}.{}", w.entity),
                    };
                    let event = match (*event, w.update_of) {
                        ("UPDATE", Some(cols)) => format!("UPDATE OF {}", cols.join(", ")),
                        (e, _) => e.to_string(),
                    };
                    sql.push_str(&format!(
                        "CREATE TEMP TRIGGER IF NOT EXISTS sync_{table}_{suffix} AFTER {event} ON main.{table} \
                         WHEN NOT EXISTS (SELECT 1 FROM sync_applying)\n\
                         BEGIN\n    \
                         INSERT INTO sync_dirty (kind, entity_id, changed_at) VALUES ('{kind}', {id}, \
                         CAST(unixepoch('subsec') * 1000 AS INTEGER))\n        \
                         ON CONFLICT (kind, entity_id) DO UPDATE SET changed_at = max(changed_at, excluded.changed_at);\n\
                         END;\n",
                        table = w.table,
                        kind = spec.kind,
                    ));
                }
            }
        }
        sql
    })
}

/// In dependency order: an entity only refers to kinds before it.
pub const SPECS: &[Spec] = &[
    Spec {
        kind: "machine",
        table: "machines",
        cols: &[
            "id",
            "fingerprint",
            "hostname",
            "friendly_name",
            "machine_type",
            "platform",
            "os_version",
            "username",
            "home_directory",
            "preferred_shell",
            "tools",
            "mcp_servers",
            "skills",
            "notes",
            "approval_required",
            "created_at",
            "updated_at",
            "last_seen_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("machines")],
    },
    Spec {
        kind: "client",
        table: "clients",
        cols: &[
            "id",
            "name",
            "slug",
            "client_type",
            "notes",
            "created_at",
            "updated_at",
            "archived_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("clients")],
    },
    Spec {
        kind: "project",
        table: "projects",
        cols: &[
            "id",
            "client_id",
            "slug",
            "name",
            "status",
            "priority",
            "description",
            "created_at",
            "updated_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("projects")],
    },
    Spec {
        kind: "project_path",
        table: "project_paths",
        cols: &["id", "project_id", "kind", "value", "machine_id", "created_at"],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("project_paths")],
    },
    Spec {
        kind: "session",
        table: "sessions",
        cols: &[
            "id",
            "machine_id",
            "client_id",
            "project_id",
            "title",
            "summary",
            "started_at",
            "ended_at",
            "billable",
            "origin",
            "claude_session_id",
            "created_at",
            "updated_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("sessions")],
    },
    Spec {
        kind: "task",
        table: "tasks",
        cols: &[
            "id",
            "title",
            "client_id",
            "project_id",
            "session_id",
            "priority",
            "status",
            "due_date",
            "created_at",
            "updated_at",
            "completed_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("tasks")],
    },
    // Who corrected which work record, with the old and new values.
    Spec {
        kind: "work_audit",
        table: "work_audit",
        cols: &[
            "id",
            "at",
            "machine_id",
            "kind",
            "entity_id",
            "action",
            "old_values",
            "new_values",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("work_audit").append_only()],
    },
    // use_count and last_used_at stay per machine (they change on every recall).
    Spec {
        kind: "memory",
        table: "memories",
        cols: &[
            "id",
            "kind",
            "title",
            "body",
            "tags",
            "hand_tags",
            "project_id",
            "client_id",
            "machine_id",
            "source_key",
            "source_path",
            "source_start",
            "source_end",
            "claude_session_id",
            "importance",
            "created_at",
            "raw_tokens",
            "stored_tokens",
            "raw_bytes",
            "tokens_exact",
            "excerpt",
            "superseded_by",
            "superseded_at",
            "pinned_at",
            "updated_at",
        ],
        blobs: &["excerpt"],
        extra: "",
        watch: &[Watch::table("memories").update_of(&[
            "kind",
            "title",
            "body",
            "tags",
            "hand_tags",
            "project_id",
            "client_id",
            "importance",
            "source_key",
            "excerpt",
            "superseded_by",
            "pinned_at",
            "updated_at",
        ])],
    },
    // What was forgotten, by source: every machine's imports skip it.
    Spec {
        kind: "memory_tombstone",
        table: "memory_tombstones",
        cols: &["id", "source_key", "forgotten_at"],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("memory_tombstones")],
    },
    // The vault travels as it is stored: the data key wrapped by the
    // passphrase-derived key, and each credential with every kept version of
    // its sealed values in one record (its MAC covers them together). The
    // team key seals all of it once more. Audit log, key files and redaction
    // MACs stay per machine.
    Spec {
        kind: "vault_meta",
        table: "vault_meta",
        cols: &[
            "id",
            "vault_id",
            "kdf",
            "kdf_memory_kib",
            "kdf_iterations",
            "kdf_parallelism",
            "kdf_salt",
            "wrap_nonce",
            "wrapped_key",
            "created_at",
            "updated_at",
        ],
        blobs: &["kdf_salt", "wrap_nonce", "wrapped_key"],
        extra: "",
        watch: &[Watch::table("vault_meta").integer_id()],
    },
    Spec {
        kind: "vault_credential",
        table: "vault_credentials",
        cols: &[
            "id",
            "client_id",
            "name",
            "cred_type",
            "username",
            "url",
            "notes",
            "created_at",
            "updated_at",
            "deleted_at",
            "mac",
        ],
        blobs: &["mac"],
        extra: "'_vault_id', (SELECT vault_id FROM vault_meta WHERE id = 1),
            '_values', json((SELECT json_group_array(json_object('field', field, 'version', version,
                'nonce', hex(nonce), 'ciphertext', hex(ciphertext), 'created_at', created_at, 'machine_id', machine_id))
                FROM vault_values WHERE credential_id = vault_credentials.id))",
        watch: &[
            Watch::table("vault_credentials"),
            Watch::table("vault_values").entity("credential_id"),
        ],
    },
    // Agent commands travel signed (src/agent/sign.rs): the target verifies
    // the signature, whatever the records say. The ledger of ids and nonces
    // a machine took up stays local.
    Spec {
        kind: "agent_command",
        table: "agent_commands",
        cols: &[
            "id",
            "requester_machine_id",
            "requested_by",
            "target_machine_id",
            "program",
            "args",
            "shell",
            "cwd",
            "timeout_ms",
            "max_output",
            "created_at",
            "expires_at",
            "nonce",
            "key_kind",
            "signature",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("agent_commands")],
    },
    Spec {
        kind: "agent_approval",
        table: "agent_approvals",
        cols: &[
            "id",
            "command_id",
            "machine_id",
            "approved_by",
            "created_at",
            "signature",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("agent_approvals")],
    },
    Spec {
        kind: "agent_result",
        table: "agent_results",
        cols: &[
            "id",
            "machine_id",
            "status",
            "exit_code",
            "stdout",
            "stderr",
            "truncated",
            "error",
            "started_at",
            "finished_at",
            "duration_ms",
            "updated_at",
        ],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("agent_results")],
    },
    Spec {
        kind: "agent_audit",
        table: "agent_audit",
        cols: &["id", "at", "machine_id", "command_id", "event", "detail"],
        blobs: &[],
        extra: "",
        watch: &[Watch::table("agent_audit").append_only()],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_watched_on_its_own_table_and_trigger_names_are_unique() {
        for spec in SPECS {
            assert!(
                spec.watch.iter().any(|w| w.table == spec.table),
                "{} is not tracked",
                spec.kind
            );
        }
        let sql = triggers_sql();
        let names: Vec<&str> = sql
            .match_indices("CREATE TEMP TRIGGER IF NOT EXISTS ")
            .map(|(i, m)| sql[i + m.len()..].split(' ').next().unwrap())
            .collect();
        let unique: std::collections::HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // Insert, update and delete per watched table; inserts only for logs.
        let expected: usize = SPECS
            .iter()
            .flat_map(|s| s.watch)
            .map(|w| if w.append_only { 1 } else { 3 })
            .sum();
        assert_eq!(names.len(), expected);
        assert!(sql.contains("AFTER UPDATE OF kind, title, body, tags, hand_tags, project_id, client_id, importance, source_key, excerpt, superseded_by, pinned_at, updated_at ON main.memories"));
        assert!(sql.contains("VALUES ('vault_credential', NEW.credential_id,"));
        assert!(sql.contains("VALUES ('vault_meta', CAST(NEW.id AS TEXT),"));
    }
}
