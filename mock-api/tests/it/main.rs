//! Integration tests of the mock Alloy API over real HTTP on loopback: one module per domain,
//! plus the cross-cutting permission matrix, isolation, pagination and concurrency tests.

mod support;

mod access;
mod admin;
mod comments;
mod data;
mod faults;
mod finance;
mod isolation;
mod journal;
mod labels;
mod model;
mod permissions;
mod projects;
mod seed;
mod sprints;
mod tags;
mod teams;
mod tickets;
mod time;
mod workflows;
