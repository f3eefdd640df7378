//! Bulk transfers through `COPY ... (FORMAT csv)`: lines in and out, result
//! rows in. An empty unquoted CSV field is NULL.

use crate::db;
use bytes::Bytes;
use futures::TryStreamExt;
use sqlx::{Postgres, Transaction};
use strata_domain::date::Date;
use strata_domain::money::Amount;
use strata_store::{
    Cause, LineBatch, LineBatchBuilder, LineRef, OrgId, ResultRow, RunRow, SegmentMove, StoreError,
    StoreResult, StoredLine, Timestamp,
};
use tokio::sync::mpsc;

/// Records sent to the server per `COPY` message.
const RECORDS_PER_MESSAGE: usize = 16 * 1024;

/// Sends CSV records to a `COPY ... FROM STDIN` statement.
async fn copy_in<T>(
    tx: &mut Transaction<'_, Postgres>,
    statement: &str,
    items: &[T],
    mut write: impl FnMut(&mut csv::Writer<Vec<u8>>, &T) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut copy = tx.copy_in_raw(statement).await.map_err(db)?;
    for chunk in items.chunks(RECORDS_PER_MESSAGE) {
        let mut csv = csv::Writer::from_writer(Vec::new());
        for item in chunk {
            write(&mut csv, item)?;
        }
        let bytes = csv.into_inner().map_err(|e| db(e.into_error()))?;
        copy.send(bytes).await.map_err(db)?;
    }
    copy.finish().await.map_err(db)?;
    Ok(())
}

/// Copies lines into the temporary table `import_lines`.
pub async fn lines_in(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    lines: &[StoredLine],
) -> StoreResult<()> {
    let org = org.to_string();
    copy_in(
        tx,
        "COPY import_lines (org_id, customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date) FROM STDIN (FORMAT csv)",
        lines,
        |csv, l| {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            csv.write_record([
                org.clone(),
                l.customer_id.clone(),
                l.order_id.clone(),
                l.line.to_string(),
                l.date.to_string(),
                l.amount.raw().to_string(),
                l.margin.map(|m| m.raw().to_string()).unwrap_or_default(),
                text(&l.agency),
                text(&l.brand),
                text(&l.category),
                text(&l.status),
                l.due_date.map(|d| d.to_string()).unwrap_or_default(),
            ])
            .map_err(db)
        },
    )
    .await
}

/// Copies a type's result rows into `result_rows`.
pub async fn results_in(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    rows: &[ResultRow],
) -> StoreResult<()> {
    let org = org.to_string();
    copy_in(
        tx,
        "COPY result_rows (org_id, type_name, segment, customer_id, source, auto_segment, manual_segment, figures, auto_source) FROM STDIN (FORMAT csv)",
        rows,
        |csv, r| {
            let figures = serde_json::to_string(&r.figures).map_err(db)?;
            csv.write_record([
                org.as_str(),
                type_name,
                &r.segment,
                &r.customer_id,
                &r.source,
                r.auto_segment.as_deref().unwrap_or_default(),
                r.manual_segment.as_deref().unwrap_or_default(),
                &figures,
                r.auto_source.as_deref().unwrap_or_default(),
            ])
            .map_err(db)
        },
    )
    .await
}

/// Copies a one-off run's rows into `run_rows`, numbered from 1.
pub async fn run_rows_in(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    run_id: i64,
    rows: &[RunRow],
) -> StoreResult<()> {
    let (org, run_id) = (org.to_string(), run_id.to_string());
    let mut number = 0u64;
    copy_in(
        tx,
        "COPY run_rows (org_id, run_id, row, customer_id, key, line) FROM STDIN (FORMAT csv)",
        rows,
        |csv, r| {
            number += 1;
            csv.write_record([
                org.as_str(),
                run_id.as_str(),
                &number.to_string(),
                &r.customer_id,
                &r.key,
                &r.line,
            ])
            .map_err(db)
        },
    )
    .await
}

/// Copies a run's history entries of one type into `history`.
pub async fn history_in(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    type_name: &str,
    changes: &[SegmentMove<'_>],
    at: Timestamp,
    run_id: i64,
    actor: &str,
) -> StoreResult<()> {
    let (org, run_id, at) = (org.to_string(), run_id.to_string(), at.to_rfc3339());
    let cause = Cause::Run.as_str();
    copy_in(
        tx,
        "COPY history (org_id, at, type_name, customer_id, old_segment, new_segment, cause, run_id, actor) FROM STDIN (FORMAT csv)",
        changes,
        |csv, (customer, old, new)| {
            csv.write_record([
                org.as_str(),
                at.as_str(),
                type_name,
                customer,
                old.unwrap_or_default(),
                new.unwrap_or_default(),
                cause,
                run_id.as_str(),
                actor,
            ])
            .map_err(db)
        },
    )
    .await
}

/// Sends every line of an organisation, read through `COPY ... TO STDOUT`,
/// in batches of `batch_lines`, in the table's order: sorting ten million
/// lines cost PostgreSQL 4 s, and no result depends on the order. The CSV is parsed on a blocking thread
/// while this task receives the next chunks. Returns `false` when it
/// stopped early because `lines` was dropped.
pub async fn lines_out(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
    batch_lines: usize,
    lines: mpsc::Sender<LineBatch>,
) -> StoreResult<bool> {
    let statement = format!(
        "COPY (SELECT customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date
               FROM lines WHERE org_id = {org}) TO STDOUT (FORMAT csv)"
    );
    let mut stream = tx.copy_out_raw(&statement).await.map_err(db)?;
    let (chunks, received) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || parse_lines(received, batch_lines, lines));
    let mut complete = true;
    while let Some(chunk) = stream.try_next().await.map_err(db)? {
        if chunks.send(chunk).await.is_err() {
            complete = false;
            break;
        }
    }
    drop(chunks);
    Ok(parser.await.map_err(db)?? && complete)
}

/// Chunks of `COPY` output waiting for the parser.
const CHUNKS_IN_FLIGHT: usize = 64;

/// The chunks of a `COPY` as one byte stream, for a CSV reader.
struct Chunks {
    received: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl std::io::Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.received.blocking_recv() {
                Some(next) => self.current = next,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Parses the lines of a `COPY` into batches; `false` when `lines` was
/// dropped before the end.
fn parse_lines(
    received: mpsc::Receiver<Bytes>,
    batch_lines: usize,
    lines: mpsc::Sender<LineBatch>,
) -> StoreResult<bool> {
    let corrupt = |what: &str, text: &str| StoreError::Corrupt(format!("line {what}: {text:?}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(Chunks {
            received,
            current: Bytes::new(),
        });
    let mut record = csv::StringRecord::new();
    let mut batch = LineBatchBuilder::new(batch_lines);
    while reader.read_record(&mut record).map_err(db)? {
        let r = &record;
        let optional = |i: usize| Some(&r[i]).filter(|t| !t.is_empty());
        let date = |text: &str| Date::parse_iso(text).ok_or_else(|| corrupt("date", text));
        let amount = |text: &str| {
            text.parse::<i64>()
                .map(Amount)
                .map_err(|_| corrupt("amount", text))
        };
        let full = batch.push(LineRef {
            customer_id: &r[0],
            order_id: &r[1],
            line: r[2].parse().map_err(|_| corrupt("number", &r[2]))?,
            date: date(&r[3])?,
            amount: amount(&r[4])?,
            margin: optional(5).map(amount).transpose()?,
            agency: optional(6),
            brand: optional(7),
            category: optional(8),
            status: optional(9),
            due_date: optional(10).map(date).transpose()?,
        });
        if let Some(full) = full {
            if lines.blocking_send(full).is_err() {
                return Ok(false);
            }
        }
    }
    if let Some(last) = batch.finish() {
        // A receiver gone at the end has nothing left to miss.
        let _ = lines.blocking_send(last);
    }
    Ok(true)
}
