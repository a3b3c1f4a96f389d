//! Wiring for the binaries: parts of the library that must not know each
//! other meet here. The memory engine gets the vault's known secrets (their
//! keyed hashes, never the vault itself), so memory and the vault never
//! import each other.

use std::collections::HashSet;
use std::path::Path;

use crate::config::MemoryConfig;
use crate::memory;
use crate::memory::engine::{Engine, TokenCounter};
use crate::memory::recall::Recalled;
use crate::redact::Redactor;
use crate::store::Db;
use crate::time::Millis;
use crate::vault;
use crate::work::Scope;

/// How many vault values the redactor knows, or why it knows none although
/// the store may have some.
pub type KnownSecrets = std::result::Result<usize, String>;

/// The built-in redactor plus this store's vault values. Never fails: a
/// missing key file or table only means there are none to add.
pub async fn redactor(db: &mut Db, data_dir: &Path) -> (Redactor, KnownSecrets) {
    match vault::redaction::load_known(db, data_dir).await {
        Ok(Some(set)) => {
            let n = set.len();
            let r = Redactor::new().with_known_secrets(move |candidate| set.matches(candidate));
            (r, Ok(n))
        }
        Ok(None) => (Redactor::new(), Ok(0)),
        Err(e) => (Redactor::new(), Err(e.to_string())),
    }
}

/// The memory engine for this store: its redactor and the given counter.
pub async fn engine(db: &mut Db, data_dir: &Path, tokens: TokenCounter) -> (Engine, KnownSecrets) {
    let (redactor, known) = redactor(db, data_dir).await;
    (Engine::new(redactor, tokens), known)
}

/// What the recall hook injects for `prompt` (see
/// [`memory::recall::recall`]), each entry labelled with its project's slug
/// from the work module.
#[allow(clippy::too_many_arguments)]
pub async fn recall(
    db: &mut Db,
    cfg: &MemoryConfig,
    prompt: &str,
    scope: &Scope,
    now: Millis,
    budget: u32,
    exclude: &HashSet<String>,
    meaning: Option<&mut memory::recall::Meaning>,
) -> crate::error::Result<Recalled> {
    memory::recall::recall(
        db,
        cfg,
        prompt,
        scope,
        now,
        budget,
        exclude,
        meaning,
        crate::work::projects::slugs,
    )
    .await
}

/// Corrects a project (`msp project update`) in one transaction: the
/// project, and when it moves to another client, its sessions, tasks and
/// memories (re-indexed under the new client, so recall for the old client
/// no longer finds them). Audited.
pub async fn update_project(
    db: &mut Db,
    key: &str,
    update: crate::work::projects::ProjectUpdate,
) -> crate::error::Result<crate::work::projects::Updated> {
    use crate::work::projects;
    let mut tx = crate::store::begin_write(db).await?;
    let mut updated = projects::update_in(&mut tx, key, update).await?;
    if let Some(moved) = &mut updated.moved {
        moved.memories = crate::memory::store::set_project_client(
            &mut tx,
            &updated.project.id,
            updated.project.client_id.as_deref(),
        )
        .await?;
    }
    if !updated.changed.is_empty() {
        projects::audit_update(&mut tx, &updated).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use crate::crypto::Key;
    use crate::redact::Redactor;
    use crate::vault::redaction::{KnownSet, value_mac};

    #[test]
    fn the_redactor_uses_the_known_set() {
        let key = Key::random().unwrap();
        let v = "Zq7-mP2_xK9!wL4";
        let set = KnownSet::new(&key, [(v.len(), value_mac(&key, v.as_bytes()).to_vec())]);
        let r = Redactor::new().with_known_secrets(move |c| set.matches(c));
        let out = r.redact(&format!(
            "ran ./deploy --target nas01 {v} and got {{\"k\":\"{v}\"}}"
        ));
        assert!(!out.text.contains(v), "{}", out.text);
        assert_eq!(
            out.text.matches("[REDACTED:known-secret]").count(),
            2,
            "{}",
            out.text
        );
    }
}

/// What `msp context search` (and the console's search) asks.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    pub client: Option<&'a str>,
    pub project: Option<&'a str>,
    pub kind: Option<String>,
    pub limit: usize,
    pub now: Millis,
    /// Where the search is made from (a project's directory): its memories
    /// rank first when neither `client` nor `project` narrows the search.
    pub prefer: Option<Scope>,
    /// Fold memories that nearly repeat a better-ranked one into it
    /// (`Scored::similar`), as recall does; the console lists each one.
    pub fold_similar: bool,
}

/// What a search found.
#[derive(Debug)]
pub struct Searched {
    pub ranked: Vec<memory::recall::Scored>,
    /// Why the query was matched by its words alone although an encoder is
    /// installed (its file cannot be used): the caller says so.
    pub meaning_error: Option<crate::embed::EmbedError>,
}

/// Memories ranked for a query as recall ranks them (superseded ones
/// included), with the meaning of the query when the encoder is installed
/// in `data_dir`.
pub async fn search(
    db: &mut Db,
    cfg: &MemoryConfig,
    data_dir: &Path,
    req: SearchRequest<'_>,
) -> crate::error::Result<Searched> {
    if let Some(k) = &req.kind {
        memory::store::check_kind(k)?;
    }
    // Nothing to match: the encoder would rank every memory by the meaning
    // of punctuation.
    if !req.query.chars().any(char::is_alphanumeric) {
        return Err(crate::error::Error::usage(format!(
            "the query {:?} has no words to search for",
            req.query
        ))
        .with_hint("`msp context list` shows the newest memories"));
    }
    let target = crate::work::sessions::resolve_scope(db, req.client, req.project).await?;
    let filter = memory::recall::Filter {
        project_id: target.project_id.clone(),
        client_id: if req.client.is_some() {
            target.client_id.clone()
        } else {
            None
        },
        kind: req.kind,
        no_client: false,
        current_only: false,
        prefer: if req.client.is_none() && req.project.is_none() {
            req.prefer
        } else {
            None
        },
        fold_similar: req.fold_similar,
    };
    let mut meaning = memory::recall::Meaning::start(data_dir, req.query, cfg.prompt_tokens);
    let (_, ranked) = memory::recall::search(
        db,
        cfg,
        req.query,
        &target,
        &filter,
        req.now,
        req.limit,
        &HashSet::new(),
        meaning.as_mut(),
    )
    .await?;
    Ok(Searched {
        ranked,
        meaning_error: meaning.and_then(memory::recall::Meaning::into_failure),
    })
}

/// Gives the memories `seqs` their vectors when the encoder is installed in
/// `data_dir`, so that what a command just stored or edited is found by
/// meaning as soon as it returns. `Ok(None)`: no encoder, recall goes by
/// words.
pub async fn embed_memories(
    db: &mut Db,
    data_dir: &Path,
    seqs: &[i64],
) -> crate::error::Result<Option<u64>> {
    let path = crate::embed::install::model_path(data_dir);
    if !path.is_file() {
        return Ok(None);
    }
    let encoder = crate::embed::Encoder::open(&path)
        .map_err(|e| crate::error::Error::Other(e.to_string()))?;
    memory::vectors::embed_memories(db, &encoder, seqs)
        .await
        .map(Some)
}
