//! The Strata engine: reading sales exports (CSV and Parquet) into columnar
//! batches, aggregating them per customer and type, running the
//! classifications of the domain crate and writing their results.

pub mod aggregate;
pub mod csv_input;
pub mod customers;
pub mod error;
pub mod inspect;
pub mod intern;
pub mod output;
pub mod overrides;
pub mod parquet_input;
pub mod progress;
pub mod result;
pub mod rows;
pub mod rules_run;
pub mod run;
pub mod source;
pub mod table;
pub mod transactions;

pub use error::{Error, Result};
