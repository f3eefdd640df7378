//! A run's snapshot read with rusqlite on a blocking thread: one read
//! transaction for the head and every line, rows stepped in place and
//! copied once into column batches. Through sqlx each row crossed a channel
//! from its worker thread (5 s for a million lines).

use crate::rows::{date, parse_attributes};
use rusqlite::{Connection, OpenFlags, Row};
use std::path::Path;
use std::time::Duration;
use strata_domain::money::Amount;
use strata_store::{
    Customer, LineBatch, LineBatchBuilder, LineRef, OrgId, SnapshotHead, StoreError, StoreResult,
};
use tokio::sync::{mpsc, oneshot};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::database(e)
}

/// Reads the snapshot of `org` from the database at `path`, sending the
/// head then the lines; returns early when a receiver is gone.
pub fn read(
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
