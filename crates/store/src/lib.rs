//! The storage interface of `strata serve`: what the server keeps
//! (organisations, tokens, settings, customers, sales lines, segment types,
//! runs and their results, manual assignments) and the one trait every
//! database implements. The HTTP layer talks to a `dyn Store` and never
//! writes SQL; `strata-store-sqlite` and `strata-store-postgres` implement
//! it, each with its own migrations, and both pass [`suite`].

mod batch;
mod error;
mod models;
mod prepare;
mod token;

#[cfg(feature = "suite")]
pub mod suite;

pub use batch::{LineBatch, LineBatchBuilder, LineRef};
pub use error::{StoreError, StoreResult};
pub use models::*;
pub use prepare::{
    active_overlap, changed_count, effective_changes, erasure_changes, holds, kind_from_columns,
    manual_changes, merge_attributes, order_sizes, periods_column, recompute_of, restated_rows,
    retention_of, row_changes, run_changes, runs_beyond, search_query, search_text, tombstone,
    Held, HeldRow, SegmentMove,
};
pub use token::{hash_token, new_token};

use async_trait::async_trait;
use strata_domain::config::input::SettingsInput;
use tokio::sync::{mpsc, oneshot};

/// Everything the server stores, scoped by organisation.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// The organisation with this name, created if missing; `true` when it
    /// was created.
    async fn ensure_org(&self, name: &str) -> StoreResult<(Org, bool)>;

    /// Stores a token (only its hash) for an organisation.
    async fn create_token(&self, new: &NewToken) -> StoreResult<Token>;

    /// The token with this hash, if it exists.
    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<Token>>;

    /// An organisation's tokens, oldest first.
    async fn tokens(&self, org: OrgId) -> StoreResult<Vec<Token>>;

    /// Revokes a token of an organisation; `false` when it has none with this id.
    async fn delete_token(&self, org: OrgId, id: i64) -> StoreResult<bool>;

    /// An organisation's settings as stored (defaults left unset).
    async fn settings(&self, org: OrgId) -> StoreResult<SettingsInput>;

    /// Replaces an organisation's settings.
    async fn set_settings(&self, org: OrgId, settings: &SettingsInput) -> StoreResult<()>;

    /// How long the organisation keeps runs' rows and history.
    async fn retention(&self, org: OrgId) -> StoreResult<Retention>;

    /// Sets how long the organisation keeps runs' rows and history.
    async fn set_retention(&self, org: OrgId, retention: &Retention) -> StoreResult<()>;

    /// Removes what the organisation's retention no longer keeps as of
    /// `now`: the rows of runs beyond the latest `keep_runs` of each type,
    /// and history entries older than `history_days`.
    async fn prune(&self, org: OrgId, now: Timestamp) -> StoreResult<Pruned>;

    /// Upserts customers by id: attributes absent from a record keep their
    /// values. All or nothing; returns how many customers changed.
    async fn upsert_customers(&self, org: OrgId, customers: &[Customer]) -> StoreResult<u64>;

    /// Stores sales lines, all or nothing (see [`LineImport`]); returns how
    /// many lines were added, changed or removed.
    async fn import_lines(&self, org: OrgId, import: &LineImport) -> StoreResult<u64>;

    /// A page of customers ordered by id, after `query.after`.
    async fn customers(&self, org: OrgId, query: &CustomerQuery) -> StoreResult<Vec<Customer>>;

    /// Every attribute name any customer of the organisation has, sorted.
    async fn attribute_names(&self, org: OrgId) -> StoreResult<Vec<String>>;

    /// One customer, with or without attributes (known from lines only).
    async fn customer(&self, org: OrgId, id: &str) -> StoreResult<Option<Customer>>;

    /// A customer with its latest results and manual segments, from one
    /// consistent state; `None` when the organisation has no such customer.
    async fn customer_detail(&self, org: OrgId, id: &str) -> StoreResult<Option<CustomerDetail>>;

    /// A customer's sales lines, by order and line number: what an
    /// explanation of its rules reads.
    async fn customer_lines(&self, org: OrgId, id: &str) -> StoreResult<Vec<StoredLine>>;

    /// The settings and segment types with their version, read together.
    async fn definitions(&self, org: OrgId) -> StoreResult<Definitions>;

    /// Everything a run reads, from one consistent snapshot: first the
    /// customers, manual assignments and data version on `head`, then every
    /// line on `lines` in batches of `batch_lines`, in no particular order
    /// (no result depends on it). Stops early, without an error, when a receiver is
    /// dropped; a reader must check the result before trusting what it got.
    async fn snapshot(
        &self,
        org: OrgId,
        batch_lines: usize,
        head: oneshot::Sender<SnapshotHead>,
        lines: mpsc::Sender<LineBatch>,
    ) -> StoreResult<()>;

    /// An organisation's segment types, in the order they were created.
    async fn types(&self, org: OrgId) -> StoreResult<Vec<TypeRecord>>;

    /// Creates or replaces a type; its version grows only when its
    /// definition changes. Setting `is_default` takes it from any other type.
    async fn put_type(&self, org: OrgId, put: &PutType) -> StoreResult<(TypeRecord, Change)>;

    /// Renames a type and rewrites the definitions that reference it (given
    /// by the caller, already rewritten), its manual assignments and results.
    async fn rename_type(&self, org: OrgId, rename: &RenameType) -> StoreResult<()>;

    /// Deletes a type with its results and manual assignments; `false` when
    /// it does not exist.
    async fn delete_type(&self, org: OrgId, name: &str, actor: &str) -> StoreResult<bool>;

    /// Every static member of the organisation's rules segments, by type,
    /// segment, list and entry.
    async fn list_entries(&self, org: OrgId) -> StoreResult<Vec<ListEntry>>;

    /// Changes a segment's static members in one transaction.
    async fn change_list(
        &self,
        org: OrgId,
        type_name: &str,
        segment: &str,
        change: &ListChange,
    ) -> StoreResult<()>;

    /// The customers whose e-mail is `email`, ignoring case and spaces.
    async fn customers_by_email(&self, org: OrgId, email: &str) -> StoreResult<Vec<String>>;

    /// The changes of a type's definition, oldest first.
    async fn type_changes(&self, org: OrgId, name: &str) -> StoreResult<Vec<TypeChange>>;

    /// Sets a customer's manual segments in a type (one for a tiered type),
    /// replacing any it had; an empty list clears them. What that changes
    /// of its effective segments goes into history.
    async fn set_manual(
        &self,
        org: OrgId,
        type_name: &str,
        customer_id: &str,
        segments: &[String],
        change: ManualChange<'_>,
    ) -> StoreResult<()>;

    /// Replaces a customer's rows in a type's result by what the engine
    /// now gives it (after a static list changed), its manual segments
    /// applied on top by the domain's precedence; what that changes of its
    /// effective segments goes into history under `cause`.
    async fn replace_customer_rows(
        &self,
        org: OrgId,
        type_name: &str,
        customer_id: &str,
        rows: &[ResultRow],
        change: ManualChange<'_>,
        cause: Cause,
    ) -> StoreResult<()>;

    /// Sets whether a type's successful runs notify the organisation;
    /// false when there is no such type.
    async fn set_notify(&self, org: OrgId, type_name: &str, notify: bool) -> StoreResult<bool>;

    /// Sets when the server classifies a type again on its own; false when
    /// there is no such type.
    async fn set_recompute(
        &self,
        org: OrgId,
        type_name: &str,
        recompute: Recompute,
    ) -> StoreResult<bool>;

    /// Records a notification of a run's end; returns its id.
    async fn add_notification(
        &self,
        org: OrgId,
        run_id: i64,
        status: RunStatus,
        body: &serde_json::Value,
    ) -> StoreResult<i64>;

    /// The organisation's notifications, newest first.
    async fn notifications(
        &self,
        org: OrgId,
        query: &NotificationQuery,
    ) -> StoreResult<Vec<Notification>>;

    /// Marks a notification read for a token; false when the organisation
    /// has no such notification.
    async fn mark_read(&self, org: OrgId, id: i64, token: i64) -> StoreResult<bool>;

    /// Erases a customer: its attributes, lines, rows in every result and
    /// manual assignments, in one transaction; `None` when the organisation
    /// has no such customer. Its history keeps a tombstone in place of its
    /// id, with an entry per segment it left (`groups`: the types that give
    /// a customer any number of segments).
    async fn erase_customer(
        &self,
        org: OrgId,
        id: &str,
        actor: &str,
        groups: &[String],
    ) -> StoreResult<Option<Erased>>;

    /// Clears every manual assignment of a type; returns how many there were.
    async fn clear_manual(
        &self,
        org: OrgId,
        type_name: &str,
        change: ManualChange<'_>,
    ) -> StoreResult<u64>;

    /// Drops the manual assignments and static members naming segments a
    /// type no longer has.
    async fn drop_manual_outside(
        &self,
        org: OrgId,
        type_name: &str,
        segments: &[String],
        change: ManualChange<'_>,
    ) -> StoreResult<u64>;

    /// History entries, oldest first.
    async fn history(&self, org: OrgId, query: &HistoryQuery) -> StoreResult<Vec<HistoryEntry>>;

    /// Queues a run, or returns the queued or running run of the same
    /// types and as-of date; a run in progress of one of the types at
    /// another date is [`StoreError::Conflict`].
    async fn create_run(&self, org: OrgId, new: &NewRun) -> StoreResult<(Run, bool)>;

    /// The organisation's latest `limit` successful runs, oldest first.
    async fn succeeded_runs(&self, org: OrgId, limit: u32) -> StoreResult<Vec<Run>>;

    /// One run of an organisation.
    async fn run(&self, org: OrgId, id: i64) -> StoreResult<Option<Run>>;

    /// Asks a queued or running run to stop; `false` when it had finished.
    async fn cancel_run(&self, org: OrgId, id: i64) -> StoreResult<bool>;

    /// Claims the oldest queued run for `owner` with a lease until `until`.
    async fn claim_run(&self, owner: &str, until: Timestamp) -> StoreResult<Option<Run>>;

    /// Extends the lease of a run `owner` holds; returns whether the run
    /// was asked to stop, or `None` when the lease is no longer `owner`'s.
    async fn renew_lease(
        &self,
        id: i64,
        owner: &str,
        until: Timestamp,
    ) -> StoreResult<Option<bool>>;

    /// Records how far a run has gone, between 0 and 1.
    async fn set_progress(&self, id: i64, progress: f64) -> StoreResult<()>;

    /// Stores a successful run's results and marks it succeeded, in one
    /// transaction; the results replace each type's previous ones, and the
    /// report's `changed` counts are filled from them.
    async fn finish_run(&self, id: i64, owner: &str, results: RunResults) -> StoreResult<()>;

    /// Stores a successful one-off run's report and rows and marks it
    /// succeeded, in one transaction, if `owner` still holds it; nothing
    /// else changes.
    async fn finish_one_off(&self, id: i64, owner: &str, results: OneOffResults)
        -> StoreResult<()>;

    /// A page of a one-off run's rows in file order after row `after`
    /// (numbered from 1), only those with `key` when given.
    async fn run_rows(&self, org: OrgId, query: &RunRowsQuery) -> StoreResult<Vec<(i64, RunRow)>>;

    /// Marks a run failed or cancelled; earlier results stay in force.
    async fn end_run(&self, id: i64, status: RunStatus, error: Option<&str>) -> StoreResult<()>;

    /// Marks failed the running runs whose lease has expired by `now`,
    /// except those of `alive` (the calling process: its runs live as long
    /// as it does, even when a long write kept it from renewing a lease);
    /// returns how many.
    async fn fail_expired_runs(&self, now: Timestamp, alive: &str) -> StoreResult<u64>;

    /// The latest successful result of each type that has one.
    async fn latest_results(&self, org: OrgId) -> StoreResult<Vec<TypeState>>;

    /// A page of a segment's members in a type's latest result, by customer id.
    async fn members(&self, org: OrgId, query: &MembersQuery) -> StoreResult<Vec<Member>>;

    /// The memberships of a type's latest result, by customer then
    /// segment: what a run that does not classify the type again reads.
    async fn assignments(&self, org: OrgId, type_name: &str) -> StoreResult<Vec<Assignment>>;

    /// The version of an organisation's data, for staleness: it grows with
    /// every import that changes something.
    async fn data_version(&self, org: OrgId) -> StoreResult<i64>;

    /// The version of an organisation's memberships: it grows with every
    /// change of a customer's effective segments (the latest history entry).
    async fn membership_version(&self, org: OrgId) -> StoreResult<i64>;
}
