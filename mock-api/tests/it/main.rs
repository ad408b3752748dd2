//! Integration tests of the mock Alloy API over real HTTP on loopback: one module per domain,
//! plus the cross-cutting permission matrix, isolation, pagination and concurrency tests.

mod support;

mod projects;
mod access;
mod teams;
mod workflows;
mod sprints;
mod isolation;
mod seed;
