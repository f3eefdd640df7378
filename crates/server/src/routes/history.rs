//! History: every change of a customer's effective segments, by customer
//! and by segment ("who entered or left VIP this month"), oldest first.

use super::data::{decode_cursor, encode_cursor};
use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use strata_domain::config::input::SettingsInput;
use strata_domain::date::Date;
use strata_domain::settings::Settings;
use strata_store::{HistoryEntry, HistoryQuery, Timestamp};

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
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit {limit}: expected 1 to {MAX_LIMIT}"
        )));
    }
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
    query.after = page
        .cursor
        .as_deref()
        .map(|c| {
            decode_cursor(c)?
                .parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("cursor '{c}' is not one this API gave")))
        })
        .transpose()?;
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
