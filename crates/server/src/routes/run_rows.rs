//! The rows of a one-off run, streamed page by page: the file the command
//! line writes for the same job (`assignments.csv` of a period,
//! `transitions.csv` of a comparison), as CSV or JSON lines.

use super::members::neutralise;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::one_off::header;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use strata_store::{Role, RunKind, RunRow, RunRowsQuery, RunStatus};

/// Rows read from the store per page.
const PAGE: u32 = 5000;

/// The options of an export.
#[derive(Deserialize)]
pub struct RowsQuery {
    format: Option<String>,
    /// Only this segment (a period run).
    segment: Option<String>,
    /// Only this movement (a comparison).
    movement: Option<String>,
}

/// One page as bytes; `customer` is the customer id's column.
fn render(
    rows: &[(i64, RunRow)],
    header: &[&str],
    customer: usize,
    jsonl: bool,
    first: bool,
) -> Result<Vec<u8>, String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut json = Vec::new();
    if first && !jsonl {
        out.write_record(header).map_err(|e| e.to_string())?;
    }
    for (_, row) in rows {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(row.line.as_bytes());
        let record = reader
            .records()
            .next()
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        if jsonl {
            let object: Map<String, Value> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| ((*k).to_owned(), Value::String(v.to_owned())))
                .collect();
            json.extend_from_slice(Value::Object(object).to_string().as_bytes());
            json.push(b'\n');
        } else {
            // Ids come from the data: one a spreadsheet would run as a
            // formula shows as text.
            let cells = record.iter().enumerate().map(|(i, cell)| {
                if i == customer {
                    neutralise(cell)
                } else {
                    cell.into()
                }
            });
            out.write_record(cells.map(|c| c.into_owned()))
                .map_err(|e| e.to_string())?;
        }
    }
    if jsonl {
        return Ok(json);
    }
    out.into_inner().map_err(|e| e.to_string())
}

/// Streams the rows of a one-off run (`POST .../runs` with a period, or
/// `POST .../compare`), in file order.
#[utoipa::path(get, path = "/api/v1/runs/{id}/rows", tag = "runs", security(("bearer" = [])), params(("id" = i64, Path), ("format" = Option<String>, Query, description = "csv or jsonl"), ("segment" = Option<String>, Query, description = "a period run: only this segment"), ("movement" = Option<String>, Query, description = "a comparison: only this movement")), responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn export_run_rows(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<RowsQuery>,
) -> ApiResult<Response> {
    // Exports carry customer ids and figures.
    caller.require(Role::Editor)?;
    let run = state
        .store
        .run(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    let (compare, key) = match (run.kind, query.segment, query.movement) {
        (RunKind::Segment, _, _) => {
            return Err(ApiError::Conflict(format!(
                "run {id} classified its types as of a date: their members are at /api/v1/segment-types/{{type}}/segments/{{segment}}/members"
            )))
        }
        (_, Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give segment or movement, not both".into(),
            ))
        }
        (RunKind::Period(_), key, None) => (false, key),
        (RunKind::Compare(_), None, key) => (true, key),
        (RunKind::Period(_), None, Some(_)) => {
            return Err(ApiError::BadRequest(
                "movement: a period run has segments; filter with segment".into(),
            ))
        }
        (RunKind::Compare(_), Some(_), None) => {
            return Err(ApiError::BadRequest(
                "segment: a comparison has movements; filter with movement".into(),
            ))
        }
    };
    if run.status != RunStatus::Succeeded {
        return Err(ApiError::Conflict(format!(
            "run {id} is {}: it has no rows",
            run.status.as_str()
        )));
    }
    if run.rows_pruned {
        let keep = state.store.retention(caller.org).await?.keep_runs;
        return Err(ApiError::Conflict(format!(
            "the rows of run {id} were removed: the organisation keeps those of the latest {keep} runs of each type (setting keep_runs); its report is kept"
        )));
    }
    let jsonl = match query.format.as_deref() {
        None | Some("csv") => false,
        Some("jsonl") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format '{other}': expected csv or jsonl"
            )))
        }
    };
    let header = header(compare);
    let customer = header
        .iter()
        .position(|c| *c == strata_domain::columns::CustomerColumn::CustomerId.name())
        .unwrap_or(0);
    let store = state.store.clone();
    let org = caller.org;
    let stream = futures::stream::unfold(Some((0i64, true)), move |position| {
        let store = store.clone();
        let key = key.clone();
        async move {
            let (after, first) = position?;
            let query = RunRowsQuery {
                run: id,
                key,
                after,
                limit: PAGE,
            };
            let page = store
                .run_rows(org, &query)
                .await
                .map_err(|e| e.to_string())
                .and_then(|rows| {
                    let bytes = render(&rows, header, customer, jsonl, first)?;
                    Ok((rows, bytes))
                });
            match page {
                Err(e) => {
                    tracing::error!(error = %e, "an export stopped");
                    Some((Err(std::io::Error::other(e)), None))
                }
                Ok((rows, bytes)) => {
                    if rows.is_empty() && !first {
                        return None;
                    }
                    let next = (rows.len() == PAGE as usize)
                        .then(|| rows.last().map(|(n, _)| (*n, false)))
                        .flatten();
                    Some((Ok(Bytes::from(bytes)), next))
                }
            }
        }
    });
    let (content_type, name) = match (jsonl, compare) {
        (false, false) => ("text/csv; charset=utf-8", "assignments.csv"),
        (false, true) => ("text/csv; charset=utf-8", "transitions.csv"),
        (true, false) => ("application/x-ndjson", "assignments.jsonl"),
        (true, true) => ("application/x-ndjson", "transitions.jsonl"),
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: &str) -> (i64, RunRow) {
        (
            1,
            RunRow {
                customer_id: String::new(),
                key: String::new(),
                line: line.to_owned(),
            },
        )
    }

    #[test]
    fn csv_neutralises_ids_and_json_lines_name_the_columns() {
        let header = ["customer_id", "segment_a", "segment_b", "movement"];
        let rows = [row("=cmd,A,\"B, b\",declined"), row("C2,,A,new")];
        let csv = String::from_utf8(render(&rows, &header, 0, false, true).unwrap()).unwrap();
        assert_eq!(
            csv,
            "customer_id,segment_a,segment_b,movement\n'=cmd,A,\"B, b\",declined\nC2,,A,new\n"
        );
        let later =
            String::from_utf8(render(&rows[1..], &header, 0, false, false).unwrap()).unwrap();
        assert_eq!(later, "C2,,A,new\n");
        let jsonl = String::from_utf8(render(&rows, &header, 0, true, true).unwrap()).unwrap();
        let first: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        assert_eq!(
            first,
            serde_json::json!({"customer_id": "=cmd", "segment_a": "A", "segment_b": "B, b", "movement": "declined"})
        );
    }
}
