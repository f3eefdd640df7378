//! File imports: a CSV or Parquet body (the command line's columns),
//! streamed to a temporary file under a size limit, decoded by the
//! engine's collecting decoder, stored all or nothing.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, RowError};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::num::NonZeroUsize;
use strata_domain::columns::{CustomerColumn, LineColumn};
use strata_engine::error::{id_problem, Location, MAX_COLLECTED_ERRORS};
use strata_engine::rows::read_all;
use strata_engine::source::{FileLines, FileTable, TableSource};
use strata_store::{Customer, LineImport, Role, StoredLine};

/// The first bytes of a Parquet file.
const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Streams a body to a temporary file named for its format (Parquet by
/// its magic bytes, CSV otherwise), refusing bodies over `limit` bytes.
async fn spool(body: Body, limit: usize) -> ApiResult<tempfile::TempPath> {
    let mut stream = body.into_data_stream();
    let mut first: Vec<u8> = Vec::new();
    let mut file: Option<(std::fs::File, tempfile::TempPath)> = None;
    let mut size = 0usize;
    let internal = |e: std::io::Error| ApiError::Internal(format!("spooling an import: {e}"));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        size += chunk.len();
        if size > limit {
            return Err(ApiError::TooLarge(limit));
        }
        match &mut file {
            Some((f, _)) => f.write_all(&chunk).map_err(internal)?,
            None => {
                first.extend_from_slice(&chunk);
                if first.len() >= PARQUET_MAGIC.len() {
                    let suffix = if first.starts_with(PARQUET_MAGIC) {
                        ".parquet"
                    } else {
                        ".csv"
                    };
                    let (mut f, path) = tempfile::Builder::new()
                        .prefix("strata-import-")
                        .suffix(suffix)
                        .tempfile()
                        .map_err(internal)?
                        .into_parts();
                    f.write_all(&first).map_err(internal)?;
                    file = Some((f, path));
                }
            }
        }
    }
    match file {
        Some((f, path)) => {
            f.sync_all().map_err(internal)?;
            Ok(path)
        }
        None => Err(ApiError::BadRequest(
            "the body is empty: send a CSV or Parquet file".into(),
        )),
    }
}

/// The row a location names: a file's line or a Parquet row, 0 for the
/// whole file or its header.
fn row(location: &Location) -> u64 {
    match location {
        Location::Line(n) | Location::Row(n) => *n,
        Location::File | Location::Header => 0,
    }
}

/// The engine's error about an imported file as a 422 listing its rows.
fn file_error(e: strata_engine::Error) -> ApiError {
    match e {
        strata_engine::Error::Cells(cells) => ApiError::Rows(
            cells
                .into_iter()
                .map(|c| RowError {
                    row: row(&c.location),
                    column: c.column,
                    message: c.message,
                })
                .collect(),
        ),
        strata_engine::Error::Input(c) => ApiError::Rows(vec![RowError {
            row: row(&c.location),
            column: c.column,
            message: c.message,
        }]),
        strata_engine::Error::Cancelled => ApiError::Internal("an import was cancelled".into()),
        other => ApiError::Rows(vec![RowError {
            row: 0,
            column: None,
            message: other.to_string(),
        }]),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("an import stopped: {e}")))?
}

/// Imports sales lines from a CSV or Parquet body: lines with a `line`
/// column are upserted by customer, order and line; without one, each
/// order the file holds is replaced whole.
#[utoipa::path(post, path = "/api/v1/imports/transactions", tag = "data", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "A CSV or Parquet file"), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_transactions(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    let path = spool(body, state.config.max_import_bytes).await?;
    let read = blocking(move || {
        let source = FileLines {
            path: path.to_path_buf(),
            decimal: None,
        };
        let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
        read_all(&source, threads).map_err(file_error)
    })
    .await?;
    // Without a `line` column, each order the file holds is replaced whole.
    let mut import = LineImport {
        lines: Vec::with_capacity(read.lines.len()),
        whole_orders: read.numbers.is_none(),
    };
    // The decoders already refused empty ids and ids holding a NUL byte.
    let mut keys = crate::wire::LineKeys::default();
    let mut twice = Vec::new();
    for (i, l) in read.lines.into_iter().enumerate() {
        let given = read.numbers.as_ref().map(|n| n[i]);
        let line = match keys.number(i, &l.customer_id, &l.order_id, given) {
            Ok(line) => line,
            Err(_) => {
                twice.push(RowError {
                    row: 0,
                    column: Some(LineColumn::Line.name().into()),
                    message: format!(
                        "customer '{}', order '{}', line {} appears more than once in the file",
                        l.customer_id,
                        l.order_id,
                        given.unwrap_or_default()
                    ),
                });
                if twice.len() >= MAX_COLLECTED_ERRORS {
                    break;
                }
                continue;
            }
        };
        import.lines.push(StoredLine {
            customer_id: l.customer_id,
            order_id: l.order_id,
            line,
            date: l.date,
            amount: l.amount,
            margin: l.margin,
            agency: l.agency,
            brand: l.brand,
            category: l.category,
            status: l.status,
            due_date: l.due_date,
        });
    }
    if !twice.is_empty() {
        return Err(ApiError::Rows(twice));
    }
    let changed = state.store.import_lines(caller.org, &import).await?;
    Ok((
        StatusCode::OK,
        Json(
            json!({"received": import.lines.len(), "changed": changed, "run": super::runs::after_import(&state, &caller).await?}),
        ),
    ))
}

/// Imports customers from a CSV or Parquet body: upserts by `customer_id`;
/// columns absent from the file keep their values.
#[utoipa::path(post, path = "/api/v1/imports/customers", tag = "data", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "A CSV or Parquet file"), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_customers(
    State(state): State<AppState>,
    caller: Caller,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    let path = spool(body, state.config.max_import_bytes).await?;
    let customers = blocking(move || {
        let table = FileTable {
            path: path.to_path_buf(),
        }
        .read()
        .map_err(file_error)?;
        let id_column = table
            .required_column(CustomerColumn::CustomerId.name())
            .map_err(file_error)?;
        let mut customers = Vec::with_capacity(table.n_rows());
        let mut problems = Vec::new();
        for i in 0..table.n_rows() {
            let line = row(&table.locations[i]);
            let id = table.cell(i, id_column).map(str::trim).unwrap_or_default();
            let problem = if id.is_empty() {
                Some("empty; every customer needs an id".to_owned())
            } else {
                id_problem(id)
            };
            if let Some(message) = problem {
                problems.push(RowError {
                    row: line,
                    column: Some(CustomerColumn::CustomerId.name().into()),
                    message,
                });
                continue;
            }
            let attributes: BTreeMap<String, String> = table
                .headers
                .iter()
                .enumerate()
                .filter(|&(c, _)| c != id_column)
                .map(|(c, h)| {
                    (
                        h.clone(),
                        table.cell(i, c).unwrap_or_default().trim().to_owned(),
                    )
                })
                .collect();
            customers.push(Customer {
                id: id.to_owned(),
                attributes,
            });
        }
        if problems.is_empty() {
            Ok(customers)
        } else {
            problems.truncate(strata_engine::error::MAX_COLLECTED_ERRORS);
            Err(ApiError::Rows(problems))
        }
    })
    .await?;
    let changed = super::lists::upsert_customers(&state, &caller, &customers).await?;
    Ok((
        StatusCode::OK,
        Json(
            json!({"received": customers.len(), "changed": changed, "run": super::runs::after_import(&state, &caller).await?}),
        ),
    ))
}
