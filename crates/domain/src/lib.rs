//! The Strata domain: segment types, the classification algorithms and their
//! explanations.
//!
//! This crate does no IO: it takes values and returns values, so the command
//! line, the server and a future SQL backend share one definition of what a
//! segment means.

pub mod classify;
pub mod columns;
pub mod compare;
pub mod config;
pub mod date;
pub mod features;
pub mod money;
pub mod pareto;
pub mod rfm;
pub mod rules;
pub mod segment_type;
pub mod settings;
pub mod summary;
