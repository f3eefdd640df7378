//! A run's bulk reads and writes, with rusqlite on a blocking thread:
//! through sqlx each row crosses a channel from its worker thread (5 s for
//! a million lines). The snapshot is one read transaction for the head and
//! every line, rows stepped in place and copied once into column batches;
//! a run's results are written with one prepared statement.

use crate::rows::{date, parse_attributes};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use std::path::Path;
use std::time::Duration;
use strata_domain::money::Amount;
use strata_store::{
    changed_count, now, run_changes, Cause, Customer, HeldRow, LineBatch, LineBatchBuilder,
    LineRef, OneOffResults, OrgId, RunReport, RunResults, SnapshotHead, StoreError, StoreResult,
};
use tokio::sync::{mpsc, oneshot};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::database(e)
}

/// Reads the snapshot of `org` from the database at `path`, sending the
/// head then the lines; returns early when a receiver is gone.
pub fn snapshot(
    path: &Path,
    org: OrgId,
    batch_lines: usize,
    head: oneshot::Sender<SnapshotHead>,
    lines: mpsc::Sender<LineBatch>,
) -> StoreResult<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    // A deferred transaction: its first read fixes what every later read sees.
    let tx = conn.unchecked_transaction().map_err(db)?;
    let data_version: i64 = tx
        .query_row("SELECT data_version FROM orgs WHERE id = ?1", [org], |r| {
            r.get(0)
        })
        .map_err(db)?;
    let mut customers = Vec::new();
    let mut select = tx
        .prepare(
            "SELECT customer_id, attributes FROM customers WHERE org_id = ?1 AND attributes <> '{}' ORDER BY customer_id",
        )
        .map_err(db)?;
    let mut rows = select.query([org]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        customers.push(Customer {
            id: row.get(0).map_err(db)?,
            attributes: parse_attributes(text(row, 1)?)?,
        });
    }
    drop(rows);
    let mut select = tx
        .prepare(
            "SELECT type_name, customer_id, segment FROM manual_segments WHERE org_id = ?1 ORDER BY type_name, customer_id, segment",
        )
        .map_err(db)?;
    let manual = select
        .query_map([org], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let head_value = SnapshotHead {
        customers,
        manual,
        data_version,
    };
    if head.send(head_value).is_err() {
        return Ok(());
    }
    let mut select = tx
        .prepare(
            "SELECT customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date
             FROM lines WHERE org_id = ?1 ORDER BY customer_id, order_id, line",
        )
        .map_err(db)?;
    let mut rows = select.query([org]).map_err(db)?;
    let mut batch = LineBatchBuilder::new(batch_lines);
    while let Some(row) = rows.next().map_err(db)? {
        let full = batch.push(LineRef {
            customer_id: text(row, 0)?,
            order_id: text(row, 1)?,
            line: row.get(2).map_err(db)?,
            date: date(text(row, 3)?)?,
            amount: Amount(row.get(4).map_err(db)?),
            margin: row.get::<_, Option<i64>>(5).map_err(db)?.map(Amount),
            agency: optional_text(row, 6)?,
            brand: optional_text(row, 7)?,
            category: optional_text(row, 8)?,
            status: optional_text(row, 9)?,
            due_date: optional_text(row, 10)?.map(date).transpose()?,
        });
        if let Some(full) = full {
            if lines.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if let Some(last) = batch.finish() {
        // A receiver gone at the end has nothing left to miss.
        let _ = lines.blocking_send(last);
    }
    Ok(())
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> StoreResult<&'r str> {
    row.get_ref(i)
        .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
        .map_err(db)
}

fn optional_text<'r>(row: &'r Row<'_>, i: usize) -> StoreResult<Option<&'r str>> {
    row.get_ref(i)
        .and_then(|v| v.as_str_or_null().map_err(rusqlite::Error::from))
        .map_err(db)
}

/// Stores a successful run's results and marks it succeeded, in one
/// transaction, filling each type's count of changed customers; a
/// conflict when `owner` no longer holds the run.
pub fn finish_run(path: &Path, id: i64, owner: &str, mut results: RunResults) -> StoreResult<()> {
    let mut conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let (org, actor) = held_by(&tx, id, owner)?;
    let at = timestamp(now());
    for (type_name, version, rows) in &results.types {
        let mut previous: Vec<HeldRow> = Vec::new();
        let mut select = tx
            .prepare_cached(
                "SELECT customer_id, source, segment, auto_segment, auto_source FROM result_rows WHERE org_id = ?1 AND type_name = ?2",
            )
            .map_err(db)?;
        let mut old = select.query(params![org, type_name]).map_err(db)?;
        while let Some(row) = old.next().map_err(db)? {
            previous.push((
                row.get(0).map_err(db)?,
                row.get(1).map_err(db)?,
                row.get(2).map_err(db)?,
                row.get(3).map_err(db)?,
                row.get(4).map_err(db)?,
            ));
        }
        let mut select = tx
            .prepare_cached(
                "SELECT customer_id, segment FROM manual_segments WHERE org_id = ?1 AND type_name = ?2",
            )
            .map_err(db)?;
        let manual = select
            .query_map(params![org, type_name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        let changes = run_changes(&results.groups, type_name, &previous, rows, &manual);
        if let Some(report) = results
            .report
            .types
            .iter_mut()
            .find(|t| &t.name == type_name)
        {
            report.changed = changed_count(&changes);
        }
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO history (org_id, at, type_name, customer_id, old_segment, new_segment, cause, run_id, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db)?;
        for (customer, old, new) in &changes {
            insert
                .execute(params![
                    org,
                    at,
                    type_name,
                    customer,
                    old,
                    new,
                    Cause::Run.as_str(),
                    id,
                    actor
                ])
                .map_err(db)?;
        }
        tx.execute(
            "DELETE FROM result_rows WHERE org_id = ?1 AND type_name = ?2",
            params![org, type_name],
        )
        .map_err(db)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO result_rows (org_id, type_name, segment, customer_id, source, auto_segment, manual_segment, figures, auto_source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db)?;
        for row in rows {
            let figures = serde_json::to_string(&row.figures).map_err(StoreError::database)?;
            insert
                .execute(params![
                    org,
                    type_name,
                    row.segment,
                    row.customer_id,
                    row.source,
                    row.auto_segment,
                    row.manual_segment,
                    figures,
                    row.auto_source
                ])
                .map_err(db)?;
        }
        tx.execute(
            "INSERT INTO type_results (org_id, type_name, run_id, version, data_version) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (org_id, type_name) DO UPDATE SET run_id = excluded.run_id, version = excluded.version, data_version = excluded.data_version",
            params![org, type_name, id, version, results.data_version],
        )
        .map_err(db)?;
    }
    // A customer erased while the run read its snapshot leaves no row.
    let current: i64 = tx
        .query_row("SELECT data_version FROM orgs WHERE id = ?1", [org], |r| {
            r.get(0)
        })
        .map_err(db)?;
    if current != results.data_version {
        tx.execute(
            "DELETE FROM result_rows WHERE org_id = ?1
             AND customer_id NOT IN (SELECT customer_id FROM customers WHERE org_id = ?1)",
            [org],
        )
        .map_err(db)?;
        // Its history entries of this run go too: none may name it.
        tx.execute(
            "DELETE FROM history WHERE org_id = ?1 AND run_id = ?2
             AND customer_id NOT IN (SELECT customer_id FROM customers WHERE org_id = ?1)",
            params![org, id],
        )
        .map_err(db)?;
    }
    mark_succeeded(&tx, id, &results.report)?;
    tx.commit().map_err(db)
}

/// Stores a one-off run's report and rows and marks it succeeded, if
/// `owner` still holds it.
pub fn finish_one_off(
    path: &Path,
    id: i64,
    owner: &str,
    results: OneOffResults,
) -> StoreResult<()> {
    let mut conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(db)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let (org, _) = held_by(&tx, id, owner)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO run_rows (org_id, run_id, row, customer_id, key, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?;
    for (number, row) in (1i64..).zip(&results.rows) {
        insert
            .execute(params![org, id, number, row.customer_id, row.key, row.line])
            .map_err(db)?;
    }
    drop(insert);
    let current: i64 = tx
        .query_row("SELECT data_version FROM orgs WHERE id = ?1", [org], |r| {
            r.get(0)
        })
        .map_err(db)?;
    if current != results.data_version {
        // A customer erased while the run read its snapshot leaves no row.
        tx.execute(
            "DELETE FROM run_rows WHERE org_id = ?1 AND run_id = ?2
             AND customer_id NOT IN (SELECT customer_id FROM customers WHERE org_id = ?1)",
            params![org, id],
        )
        .map_err(db)?;
    }
    mark_succeeded(&tx, id, &results.report)?;
    tx.commit().map_err(db)
}

/// The organisation and actor of a run `owner` still holds, or why not.
fn held_by(tx: &rusqlite::Transaction<'_>, id: i64, owner: &str) -> StoreResult<(i64, String)> {
    tx.query_row(
        "SELECT org_id, actor FROM runs WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
        params![id, owner],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(db)?
    .ok_or_else(|| StoreError::Conflict(format!("run {id} is no longer held by this process")))
}

/// Marks a run succeeded with its report, releasing its lease.
fn mark_succeeded(tx: &rusqlite::Transaction<'_>, id: i64, report: &RunReport) -> StoreResult<()> {
    let report = serde_json::to_string(report).map_err(StoreError::database)?;
    tx.execute(
        "UPDATE runs SET status = 'succeeded', progress = 1, report = ?1, finished_at = ?2, lease_owner = NULL, lease_until = NULL WHERE id = ?3",
        params![report, timestamp(now()), id],
    )
    .map_err(db)?;
    Ok(())
}

/// A timestamp as sqlx writes it to SQLite, so that both read it back.
fn timestamp(t: strata_store::Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}
