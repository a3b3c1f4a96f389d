use super::{Ctx, out, print_json};
use crate::error::Result;
use crate::machine::{self, Registration};
use crate::store::{SCHEMA_VERSION, Store};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// Creates or migrates the store and registers this machine. Running it
/// again changes nothing but the machine's last-seen time, and says so.
pub async fn run(ctx: &Ctx, _args: Args) -> Result<i32> {
    let db_path = ctx.paths.db();
    let before = if db_path.exists() {
        Some(Store::peek_version(&db_path).await?)
    } else {
        None
    };
    let mut store = ctx.store().await?;
    let detected = machine::detect().await;
    let (m, registration) = machine::register(store.db(), &detected).await?;
    store.close().await?;

    let store_state = match before {
        None => "created",
        Some(v) if v < SCHEMA_VERSION => "migrated",
        Some(_) => "unchanged",
    };
    if ctx.json {
        print_json(&serde_json::json!({
            "store": {"path": db_path, "state": store_state, "schema_version": SCHEMA_VERSION},
            "machine": {"id": m.id, "name": m.display_name(), "state": registration},
        }))?;
    } else {
        let store_line = match before {
            None => format!(
                "store    created {} (schema {SCHEMA_VERSION})",
                db_path.display()
            ),
            Some(v) if v < SCHEMA_VERSION => format!(
                "store    migrated {} (schema {v} -> {SCHEMA_VERSION})",
                db_path.display()
            ),
            Some(_) => format!(
                "store    up to date {} (schema {SCHEMA_VERSION}); nothing changed",
                db_path.display()
            ),
        };
        out(store_line)?;
        out(match registration {
            Registration::Created => format!(
                "machine  registered {} ({})",
                m.display_name(),
                &m.fingerprint[..12]
            ),
            Registration::Updated => format!(
                "machine  already registered {}; nothing changed",
                m.display_name()
            ),
        })?;
    }
    Ok(0)
}
