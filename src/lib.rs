//! Root package of the workspace: it exists so that `tests/` and `benches/` at the top level are compiled. See README.md.
