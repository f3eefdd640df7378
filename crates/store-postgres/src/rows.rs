//! Reading PostgreSQL rows back into the store's models.

use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::Row;
use std::collections::BTreeMap;
use strata_domain::date::Date;
use strata_store::{Notification, ResultRow, Role, Run, RunStatus, StoreError, StoreResult, Token};

/// The columns [`run_from_row`] reads, in order.
pub const RUN_COLUMNS: &str = "id, org_id, types, as_of, status, progress, error, report, created_at, started_at, finished_at, kind, periods, rows_pruned";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A JSON object of strings in column `i`.
pub fn attributes(row: &PgRow, i: usize) -> StoreResult<BTreeMap<String, String>> {
    row.try_get::<Json<BTreeMap<String, String>>, _>(i)
        .map(|j| j.0)
        .map_err(|e| corrupt("attributes", e))
}

/// A row of `tokens`.
pub fn token_from_row(row: &PgRow) -> StoreResult<Token> {
    let role: &str = row.get(2);
    Ok(Token {
        id: row.get(0),
        org: row.get(1),
        role: Role::from_name(role).ok_or_else(|| corrupt("role", role))?,
        label: row.get(3),
        created_at: row.get(4),
    })
}

/// A row of `runs` read with [`RUN_COLUMNS`].
pub fn run_from_row(row: &PgRow) -> StoreResult<Run> {
    let status: &str = row.get(4);
    Ok(Run {
        id: row.get(0),
        org: row.get(1),
        kind: strata_store::kind_from_columns(row.get(11), row.get(12))?,
        types: row
            .try_get::<Json<Vec<String>>, _>(2)
            .map_err(|e| corrupt("run types", e))?
            .0,
        as_of: Date::from_naive(row.get(3)),
        status: RunStatus::from_name(status).ok_or_else(|| corrupt("run status", status))?,
        progress: row.get(5),
        error: row.get(6),
        report: row
            .try_get::<Option<Json<strata_store::RunReport>>, _>(7)
            .map_err(|e| corrupt("run report", e))?
            .map(|j| j.0),
        created_at: row.get(8),
        started_at: row.get(9),
        finished_at: row.get(10),
        rows_pruned: row.get(13),
    })
}

/// A row of `result_rows`: type, customer, segment, source, auto, manual,
/// figures, auto source.
pub fn result_from_row(row: &PgRow) -> StoreResult<ResultRow> {
    Ok(ResultRow {
        type_name: row.get(0),
        customer_id: row.get(1),
        segment: row.get(2),
        source: row.get(3),
        auto_segment: row.get(4),
        auto_source: row.get(7),
        manual_segment: row.get(5),
        figures: attributes(row, 6)?,
    })
}

/// A row of `notifications` with whether the token read it: id, at, run,
/// status, body, read.
pub fn notification_from_row(row: &PgRow) -> StoreResult<Notification> {
    let status: &str = row.get(3);
    Ok(Notification {
        id: row.get(0),
        at: row.get(1),
        run_id: row.get(2),
        status: RunStatus::from_name(status).ok_or_else(|| corrupt("run status", status))?,
        body: row.get::<Json<serde_json::Value>, _>(4).0,
        read: row.get(5),
    })
}
