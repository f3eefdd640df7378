//! Bulk transfers through `COPY ... (FORMAT csv)`: lines in and out, result
//! rows in. An empty unquoted CSV field is NULL.

use crate::db;
use futures::TryStreamExt;
use sqlx::{Postgres, Transaction};
use strata_domain::date::Date;
use strata_domain::money::Amount;
use strata_store::{OrgId, ResultRow, StoreError, StoreResult, StoredLine};

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
        "COPY result_rows (org_id, type_name, segment, customer_id, source, auto_segment, manual_segment, figures) FROM STDIN (FORMAT csv)",
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
            ])
            .map_err(db)
        },
    )
    .await
}

/// Reads every line of an organisation through `COPY ... TO STDOUT`.
pub async fn lines_out(
    tx: &mut Transaction<'_, Postgres>,
    org: OrgId,
) -> StoreResult<Vec<StoredLine>> {
    let statement = format!(
        "COPY (SELECT customer_id, order_id, line, date, amount, margin, agency, brand, category, status, due_date
               FROM lines WHERE org_id = {org} ORDER BY customer_id, order_id, line) TO STDOUT (FORMAT csv)"
    );
    let mut stream = tx.copy_out_raw(&statement).await.map_err(db)?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(db)? {
        bytes.extend_from_slice(&chunk);
    }
    let corrupt = |what: &str, text: &str| StoreError::Corrupt(format!("line {what}: {text:?}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut lines = Vec::new();
    for record in reader.records() {
        let r = record.map_err(db)?;
        let optional = |i: usize| Some(&r[i]).filter(|t| !t.is_empty()).map(str::to_owned);
        let date = |text: &str| Date::parse_iso(text).ok_or_else(|| corrupt("date", text));
        let amount = |text: &str| {
            text.parse::<i64>()
                .map(Amount)
                .map_err(|_| corrupt("amount", text))
        };
        lines.push(StoredLine {
            customer_id: r[0].to_owned(),
            order_id: r[1].to_owned(),
            line: r[2].parse().map_err(|_| corrupt("number", &r[2]))?,
            date: date(&r[3])?,
            amount: amount(&r[4])?,
            margin: optional(5).map(|t| amount(&t)).transpose()?,
            agency: optional(6),
            brand: optional(7),
            category: optional(8),
            status: optional(9),
            due_date: optional(10).map(|t| date(&t)).transpose()?,
        });
    }
    Ok(lines)
}
