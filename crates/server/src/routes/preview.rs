//! `POST /api/v1/preview`: what a rule or a rules type would match now,
//! evaluated by the engine on the organisation's cached feature table
//! without saving anything.

use super::body;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::preview::Table;
use crate::types::{config_of, split_body};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use strata_domain::date::Date;
use strata_domain::money::{Amount, Fraction};
use strata_engine::inspect;
use strata_engine::run::InspectRun;

/// What to preview.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// A rule in the query language, or its JSON form.
    #[schema(value_type = Object)]
    rule: Option<Value>,
    /// A rules type as `PUT /segment-types/{name}` takes it, with its `name`.
    #[serde(rename = "type")]
    #[schema(value_type = Object)]
    segment_type: Option<Value>,
    /// `YYYY-MM-DD`; default: today in the organisation's time zone.
    as_of: Option<String>,
}

/// What a request asks to preview.
enum Asked {
    Rule(Value),
    Type(Value),
}

/// `part / whole` with six decimals.
fn share(part: u64, whole: u64) -> String {
    let count = |n: u64| Amount(i64::try_from(n).unwrap_or(i64::MAX));
    Fraction {
        part: count(part),
        whole: count(whole),
    }
    .to_string()
}

/// `part / whole` of two amounts with six decimals.
fn share_of(part: Amount, whole: Amount) -> String {
    Fraction { part, whole }.to_string()
}

/// A rule's preview.
fn rule_preview(run: &InspectRun, rule: &Value) -> ApiResult<Value> {
    let text = match rule {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let p = inspect::preview(run, &text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let sample: Vec<Value> = p
        .first
        .iter()
        .map(|(id, values)| {
            let read: Map<String, Value> = p
                .columns
                .iter()
                .zip(values)
                .map(|(c, v)| (c.clone(), Value::String(v.clone())))
                .collect();
            json!({"customer_id": id, "values": read})
        })
        .collect();
    let blocks: Vec<Value> = p
        .blocks
        .iter()
        .map(|(rule, matched)| {
            json!({"rule": rule, "matched": matched, "share_of_customers": share(*matched, p.customers)})
        })
        .collect();
    Ok(json!({
        "rule": p.rule,
        "customers": p.customers,
        "matched": p.matched,
        "share_of_customers": share(p.matched, p.customers),
        "sales": p.spent_matched,
        "total_sales": p.spent_all,
        "share_of_sales": share_of(p.spent_matched, p.spent_all),
        "blocks": blocks,
        "sample": sample,
    }))
}

/// A rules type's preview: its segments' counts as a run would make them.
async fn type_preview(
    state: &AppState,
    caller: &Caller,
    run: &InspectRun,
    body: Value,
) -> ApiResult<Value> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("type: give its name".into()))?
        .to_owned();
    let parts = split_body(&name, body)?;
    let definitions = state.store.definitions(caller.org).await?;
    let mut all: Vec<&Value> = definitions
        .types
        .iter()
        .filter(|t| t.name != name)
        .map(|t| &t.definition)
        .collect();
    all.push(&parts.definition);
    let config = config_of(&definitions.settings, &all).map_err(ApiError::Invalid)?;
    let result = inspect::preview_type(run, &config, &name)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let n = run.run.dicts.customers.len() as u32;
    let total = Amount::checked_sum((0..n).map(|c| run.rules.total_spent(c)))
        .map_err(|_| ApiError::Internal("total sales overflow".into()))?;
    let segments: Vec<Value> = result
        .summary
        .segments
        .iter()
        .map(|s| {
            json!({
                "segment": s.name,
                "customers": s.accounts,
                "share_of_customers": share(s.accounts, result.summary.customers),
                "sales": s.sales,
                "share_of_sales": share_of(s.sales, total),
            })
        })
        .collect();
    Ok(json!({
        "segment_type": name,
        "customers": result.summary.customers,
        "total_sales": total,
        "segments": segments,
    }))
}

/// Evaluates a rule (`{"rule": ...}`) or a rules type (`{"type": {...}}`)
/// on stored data without saving: counts, shares of customers and sales,
/// each block's own count and a sample of 20 matches with the values read.
/// While the organisation's feature table is being built the answer is
/// 202 with `"status": "building"`: ask again.
#[utoipa::path(post, path = "/api/v1/preview", tag = "types", security(("bearer" = [])), request_body(content = PreviewRequest), responses((status = 200, body = Object), (status = 202, body = Object), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<PreviewRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let request = body(json)?;
    let as_of = match &request.as_of {
        Some(text) => Date::parse_iso(text).ok_or_else(|| {
            ApiError::BadRequest(format!("as_of '{text}' is not a date; expected YYYY-MM-DD"))
        })?,
        None => super::runs::today(&state.store.settings(caller.org).await?)?,
    };
    let asked = match (request.rule, request.segment_type) {
        (Some(rule), None) => Asked::Rule(rule),
        (None, Some(ty)) => Asked::Type(ty),
        _ => return Err(ApiError::BadRequest("give either rule or type".into())),
    };
    let table = state
        .previews
        .table(&state.store, caller.org, as_of, state.config.preview_wait)
        .await?;
    let run = match table {
        Table::Ready(run) => run,
        Table::Building => {
            let body = json!({"status": "building", "as_of": as_of.to_string()});
            return Ok((StatusCode::ACCEPTED, [(RETRY_AFTER, "1")], Json(body)).into_response());
        }
    };
    let mut answer = match asked {
        Asked::Rule(rule) => rule_preview(&run, &rule)?,
        Asked::Type(ty) => type_preview(&state, &caller, &run, ty).await?,
    };
    answer["status"] = json!("ready");
    answer["as_of"] = json!(as_of.to_string());
    Ok(Json(answer).into_response())
}
