//! History: every change of a customer's effective segments, by customer
//! and by segment ("who entered or left VIP this month"), oldest first.

use super::data::{decode_cursor, decode_id_cursor, encode_cursor, page_limit};
use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use strata_domain::compare::{Movement, TransitionMatrix};
use strata_domain::config::input::SettingsInput;
use strata_domain::date::Date;
use strata_domain::segment_type::{SegmentIdx, SegmentType};
use strata_domain::settings::Settings;
use strata_store::{HistoryEntry, HistoryQuery, RunStatus, Timestamp};

/// Entries per page by default, and at most.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// The query of a page of history.
#[derive(Deserialize)]
pub struct PageQuery {
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

fn entry_json(e: &HistoryEntry) -> Value {
    json!({
        "id": e.id,
        "at": e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "segment_type": e.segment_type,
        "customer_id": e.customer_id,
        "old_segment": e.old_segment,
        "new_segment": e.new_segment,
        "cause": e.cause.as_str(),
        "run_id": e.run_id,
        "actor": e.actor,
    })
}

/// A bound of `from` or `to`: a date (the start of that day in the
/// organisation's time zone) or an RFC 3339 timestamp; `to` is exclusive.
fn bound(name: &str, text: &str, settings: &Settings) -> ApiResult<Timestamp> {
    if let Some(date) = Date::parse_iso(text) {
        return Ok(settings.start_of(date));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "{name} '{text}': expected a date YYYY-MM-DD or an RFC 3339 timestamp"
            ))
        })
}

/// Reads a page: `query` with the page's cursor and limit.
async fn page(
    state: &AppState,
    caller: &Caller,
    mut query: HistoryQuery,
    page: PageQuery,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(page.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    if page.from.is_some() || page.to.is_some() {
        let input: SettingsInput = state.store.settings(caller.org).await?;
        let settings = Settings::from_input(input)
            .map_err(|e| ApiError::Internal(format!("stored settings do not validate: {e}")))?;
        query.from = page
            .from
            .as_deref()
            .map(|t| bound("from", t, &settings))
            .transpose()?;
        query.to = page
            .to
            .as_deref()
            .map(|t| bound("to", t, &settings))
            .transpose()?;
    }
    query.after = page.cursor.as_deref().map(decode_id_cursor).transpose()?;
    query.limit = limit + 1;
    let entries = state.store.history(caller.org, &query).await?;
    let more = entries.len() > limit as usize;
    let shown = &entries[..entries.len().min(limit as usize)];
    let next_cursor = more
        .then(|| shown.last().map(|e| encode_cursor(&e.id.to_string())))
        .flatten();
    Ok(Json(json!({
        "entries": shown.iter().map(entry_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// A customer's history, oldest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/history", tag = "data", security(("bearer" = [])), params(("id" = String, Path), ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000)), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    if state.store.customer(caller.org, &id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no customer '{id}'")));
    }
    let wanted = HistoryQuery {
        customer: Some(id),
        ..HistoryQuery::default()
    };
    page(&state, &caller, wanted, query).await
}

/// Who entered or left a segment, oldest first; `from` and `to` are dates
/// in the organisation's time zone or timestamps.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/segments/{segment}/history", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("segment" = String, Path), ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000)), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn segment_history(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, segment)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let ty = segment_type(&state, &caller, &name).await?;
    if ty.segment_idx(&segment).is_none() {
        return Err(ApiError::NotFound(format!(
            "'{name}' has no segment '{segment}'"
        )));
    }
    let wanted = HistoryQuery {
        segment: Some((name, segment)),
        ..HistoryQuery::default()
    };
    page(&state, &caller, wanted, query).await
}

/// Movers per page by default, and at most.
const DEFAULT_MOVERS: u32 = 1000;
const MAX_MOVERS: u32 = 10_000;

/// The query of a migration between two runs.
#[derive(Deserialize)]
pub struct MigrationQuery {
    from_run: i64,
    to_run: i64,
    format: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A segment's place in the type (lower is better), or its name when the
/// type no longer has it.
fn index<'a>(ty: &SegmentType, segment: Option<&'a str>) -> Result<Option<SegmentIdx>, &'a str> {
    segment.map(|s| ty.segment_idx(s).ok_or(s)).transpose()
}

/// When a run that classified `type_name` ended.
async fn finished(
    state: &AppState,
    caller: &Caller,
    id: i64,
    type_name: &str,
) -> ApiResult<Timestamp> {
    let run = state
        .store
        .run(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    if run.kind.is_one_off() {
        return Err(ApiError::Conflict(format!(
            "run {id} is a one-off run ({}): its rows are at /api/v1/runs/{id}/rows",
            run.kind.name()
        )));
    }
    let classified = run
        .report
        .as_ref()
        .is_some_and(|r| r.types.iter().any(|t| t.name == type_name));
    match run.finished_at {
        Some(at) if classified && run.status == RunStatus::Succeeded => Ok(at),
        _ => Err(ApiError::Conflict(format!(
            "run {id} is not a successful run of '{type_name}'"
        ))),
    }
}

/// How the customers of a tiered type moved between two of its runs: the
/// transition matrix, the count of each movement and the movers, from the
/// effective segments history holds right after each run (manual segments
/// included). Segments are matched by name; one the current definition
/// does not have is listed, and its movers have no movement.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/migration", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("from_run" = i64, Query), ("to_run" = i64, Query), ("format" = Option<String>, Query, description = "json or csv (transitions.csv)"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 10000)), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn migration(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<MigrationQuery>,
) -> ApiResult<Response> {
    let ty = segment_type(&state, &caller, &name).await?;
    if !ty.one_per_account() {
        return Err(ApiError::Conflict(format!(
            "'{name}' gives customers several groups: it has no migration between tiers; read its history"
        )));
    }
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format '{other}': expected json or csv"
            )))
        }
    };
    let limit = page_limit(query.limit, DEFAULT_MOVERS, MAX_MOVERS)?;
    let from = finished(&state, &caller, query.from_run, &name).await?;
    let to = finished(&state, &caller, query.to_run, &name).await?;
    if from >= to {
        return Err(ApiError::BadRequest(format!(
            "from_run {} must have ended before to_run {}",
            query.from_run, query.to_run
        )));
    }
    let entries = state
        .store
        .history(
            caller.org,
            &HistoryQuery {
                segment_type: Some(name.clone()),
                to: Some(to + chrono::Duration::microseconds(1)),
                limit: u32::MAX,
                ..HistoryQuery::default()
            },
        )
        .await?;
    // Each customer's segment right after each run.
    let mut at_from: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut at_to: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for e in &entries {
        let new = e.new_segment.as_deref();
        if e.at <= from {
            at_from.insert(&e.customer_id, new);
        }
        at_to.insert(&e.customer_id, new);
    }
    let mut matrix = TransitionMatrix::new(ty.segments.len());
    let mut counts: BTreeMap<&str, u64> = Movement::ALL.iter().map(|m| (m.as_str(), 0)).collect();
    let mut unknown: BTreeSet<&str> = BTreeSet::new();
    let mut movers = Vec::new();
    for (customer, b) in &at_to {
        let a = at_from.get(customer).copied().flatten();
        let b = *b;
        let movement = match (index(&ty, a), index(&ty, b)) {
            (Ok(ia), Ok(ib)) => {
                let Some(m) = Movement::between(ia, ib) else {
                    continue;
                };
                matrix.add(ia, ib);
                *counts.entry(m.as_str()).or_default() += 1;
                Some(m.as_str())
            }
            (ia, ib) => {
                unknown.extend(ia.err());
                unknown.extend(ib.err());
                None
            }
        };
        movers.push((*customer, a, b, movement));
    }
    if csv {
        let mut out = csv::Writer::from_writer(Vec::new());
        let write = |out: &mut csv::Writer<Vec<u8>>, row: [&str; 4]| {
            out.write_record(row)
                .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))
        };
        write(&mut out, strata_engine::output::TRANSITION_COLUMNS)?;
        for (customer, a, b, movement) in &movers {
            write(
                &mut out,
                [
                    customer,
                    a.unwrap_or(""),
                    b.unwrap_or(""),
                    movement.unwrap_or(""),
                ],
            )?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
        return Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response());
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let page: Vec<_> = movers
        .iter()
        .filter(|m| after.as_deref().is_none_or(|after| m.0 > after))
        .take(limit as usize + 1)
        .collect();
    let more = page.len() > limit as usize;
    let shown = &page[..page.len().min(limit as usize)];
    let next_cursor = more
        .then(|| shown.last().map(|m| encode_cursor(m.0)))
        .flatten();
    let mut segments: Vec<&str> = ty.segments.iter().map(|s| s.name.as_str()).collect();
    segments.push("");
    Ok(Json(json!({
        "segment_type": name,
        "from_run": query.from_run,
        "to_run": query.to_run,
        "segments": segments,
        "matrix": matrix.counts,
        "movements": counts,
        "not_in_definition": unknown,
        "movers": shown.iter().map(|(customer, a, b, movement)| json!({
            "customer_id": customer,
            "segment_a": a,
            "segment_b": b,
            "movement": movement,
        })).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    }))
    .into_response())
}
