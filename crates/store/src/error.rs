//! What a store operation can fail with.

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was migrated by a newer Strata.
    #[error("the database has migration {found}, which this Strata does not know (it knows up to {known}): use a newer Strata")]
    TooNew {
        /// The unknown migration found in the database.
        found: i64,
        /// The last migration this build knows.
        known: i64,
    },
    /// The operation conflicts with the stored state; the message says how.
    #[error("{0}")]
    Conflict(String),
    /// Stored data that cannot be read back (a bug or a hand-edited database).
    #[error("stored data: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A database error from any driver.
    pub fn database(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Database(Box::new(e))
    }
}
