//! alloy-conformance
