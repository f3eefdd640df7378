//! Reading SQLite rows back into the store's models.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use std::collections::BTreeMap;
use strata_domain::date::Date;
use strata_domain::money::Amount;
use strata_store::{
    Cause, HistoryEntry, Notification, ResultRow, Role, Run, RunStatus, StoreError, StoreResult,
    StoredLine, Token,
};

/// The columns [`run_from_row`] reads, in order.
pub const RUN_COLUMNS: &str = "id, org_id, types, as_of, status, progress, error, report, created_at, started_at, finished_at, kind, periods, rows_pruned";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A stored ISO date.
pub fn date(text: &str) -> StoreResult<Date> {
    Date::parse_iso(text).ok_or_else(|| corrupt("date", text))
}

/// Stored attributes (a JSON object of strings).
pub fn parse_attributes(json: &str) -> StoreResult<BTreeMap<String, String>> {
    serde_json::from_str(json).map_err(|e| corrupt("attributes", e))
}

/// A row of `tokens`.
pub fn token_from_row(row: &SqliteRow) -> StoreResult<Token> {
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
pub fn run_from_row(row: &SqliteRow) -> StoreResult<Run> {
    let status: &str = row.get(4);
    Ok(Run {
        id: row.get(0),
        org: row.get(1),
        kind: strata_store::kind_from_columns(row.get(11), row.get(12))?,
        types: serde_json::from_str(row.get(2)).map_err(|e| corrupt("run types", e))?,
        as_of: date(row.get(3))?,
        status: RunStatus::from_name(status).ok_or_else(|| corrupt("run status", status))?,
        progress: row.get(5),
        error: row.get(6),
        report: row
            .get::<Option<&str>, _>(7)
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("run report", e))?,
        created_at: row.get(8),
        started_at: row.get(9),
        finished_at: row.get(10),
        rows_pruned: row.get(13),
    })
}

/// A row of `lines`: customer, order, line, date, amount, margin, agency,
/// brand, category, status, due date.
pub fn line_from_row(row: &SqliteRow) -> StoreResult<StoredLine> {
    Ok(StoredLine {
        customer_id: row.get(0),
        order_id: row.get(1),
        line: row.get(2),
        date: date(row.get(3))?,
        amount: Amount(row.get(4)),
        margin: row.get::<Option<i64>, _>(5).map(Amount),
        agency: row.get(6),
        brand: row.get(7),
        category: row.get(8),
        status: row.get(9),
        due_date: row.get::<Option<&str>, _>(10).map(date).transpose()?,
    })
}

/// A row of `history`: id, at, type, customer, old, new, cause, run, actor.
pub fn history_from_row(row: &SqliteRow) -> StoreResult<HistoryEntry> {
    let cause: &str = row.get(6);
    Ok(HistoryEntry {
        id: row.get(0),
        at: row.get(1),
        segment_type: row.get(2),
        customer_id: row.get(3),
        old_segment: row.get(4),
        new_segment: row.get(5),
        cause: Cause::from_name(cause).ok_or_else(|| corrupt("history cause", cause))?,
        run_id: row.get(7),
        actor: row.get(8),
    })
}

/// A row of `result_rows`: type, customer, segment, source, auto, manual,
/// figures, auto source.
pub fn result_from_row(row: &SqliteRow) -> StoreResult<ResultRow> {
    Ok(ResultRow {
        type_name: row.get(0),
        customer_id: row.get(1),
        segment: row.get(2),
        source: row.get(3),
        auto_segment: row.get(4),
        auto_source: row.get(7),
        manual_segment: row.get(5),
        figures: serde_json::from_str(row.get(6)).map_err(|e| corrupt("figures", e))?,
    })
}

/// A row of `notifications` with whether the token read it: id, at, run,
/// status, body, read.
pub fn notification_from_row(row: &SqliteRow) -> StoreResult<Notification> {
    let status: &str = row.get(3);
    Ok(Notification {
        id: row.get(0),
        at: row.get(1),
        run_id: row.get(2),
        status: RunStatus::from_name(status).ok_or_else(|| corrupt("run status", status))?,
        body: serde_json::from_str(row.get(4)).map_err(|e| corrupt("notification", e))?,
        read: row.get(5),
    })
}
