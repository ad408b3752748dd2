//! Seed data: a human-written dataset (`fixtures/seed/seed.json`) that names things by natural
//! keys (emails, project keys, workflow, label and sprint names, ticket numbers) and is applied
//! to an empty [`Store`] through the API's own rules: [`load`] replays every record as the
//! request that would have made it, acting as its user at its instant. A ticket is written as
//! its creation plus a `history` of dated steps ([`format`]), so the activity log,
//! `resolved_at` and `updated_at` agree with the ticket by construction. A bad record is an
//! error naming its seed path (`orgs[0].projects[1].tickets[4].assignee: unknown user bob@x`).
//! [`SeedKeys`] returns the raw API keys of the seeded users. In deterministic mode ids come
//! from the store's counter in seed order, so the same seed always yields the same ids.

mod format;
mod load;

use crate::model::OrgRole;
use crate::store::Store;
use anyhow::{anyhow, bail};
use format::SeedDoc;
use serde::{Deserialize, Serialize};
use std::path::Path;
use uuid::Uuid;

/// One seeded API key.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeededKey {
    /// Org slug.
    pub org_slug: String,
    /// Org id.
    pub org_id: Uuid,
    /// User email.
    pub email: String,
    /// User id.
    pub user_id: Uuid,
    /// The user's role in that org.
    pub role: OrgRole,
    /// The raw key.
    pub key: String,
}

/// The raw API keys of the seeded users; the first org of the seed is the primary one.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeedKeys {
    /// Every seeded key, in seed order.
    pub keys: Vec<SeededKey>,
}

impl SeedKeys {
    /// The key of the first seeded user with `role` in the primary (first) org; `""` if none.
    pub fn for_role(&self, role: OrgRole) -> &str {
        self.entry(role).map_or("", |k| k.key.as_str())
    }

    /// The seeded key entry of the first user with `role` in the primary org.
    pub fn entry(&self, role: OrgRole) -> Option<&SeededKey> {
        let primary = self.keys.first()?.org_id;
        self.keys.iter().find(|k| k.org_id == primary && k.role == role)
    }

    /// The key of the Owner of the second seeded org (for isolation tests); `""` if none.
    pub fn other_org_owner(&self) -> &str {
        let primary = self.keys.first().map(|k| k.org_id);
        let other = self
            .keys
            .iter()
            .find(|k| Some(k.org_id) != primary && k.role == OrgRole::Owner);
        other.map_or("", |k| k.key.as_str())
    }
}

/// A parsed seed file.
#[derive(Clone, Debug)]
pub struct Seed {
    doc: SeedDoc,
    source: String,
}

/// The repository's seed, embedded at compile time so the binary works from any directory.
const BUNDLED: &str = include_str!("../../../fixtures/seed/seed.json");

impl Seed {
    /// Reads `<dir>/seed.json`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Seed> {
        let path = dir.join("seed.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| anyhow!("cannot read seed file {}: {e}", path.display()))?;
        Seed::from_json(&text, &path.display().to_string())
    }

    /// Parses a seed document; `source` names it in error messages.
    pub fn from_json(text: &str, source: &str) -> anyhow::Result<Seed> {
        let doc: SeedDoc =
            serde_json::from_str(text).map_err(|e| anyhow!("seed file {source} is not a valid seed: {e}"))?;
        Ok(Seed {
            doc,
            source: source.to_string(),
        })
    }

    /// The repository's bundled seed (`fixtures/seed/seed.json`, embedded at compile time).
    pub fn bundled() -> anyhow::Result<Seed> {
        Seed::from_json(BUNDLED, "fixtures/seed/seed.json (bundled)")
    }

    /// Where the seed came from (a path, or the bundled copy).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Applies the seed to an empty store and returns the raw keys it created.
    pub fn apply(&self, store: &mut Store) -> anyhow::Result<SeedKeys> {
        if !store.users.is_empty() || !store.orgs.is_empty() {
            bail!(
                "seed file {}: a seed can only be applied to an empty store",
                self.source
            );
        }
        load::Loader::new(store)
            .run(&self.doc)
            .map_err(|e| anyhow!("seed file {}: {e:#}", self.source))
    }
}
