//! Routes of the `comments` domain (to be filled in; see ARCHITECTURE.md).

use super::Route;

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
