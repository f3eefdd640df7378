//! Runs: queued at once, classified in the background, read back.

use super::body;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::types::{plan_one_off, plan_run, PlanError};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use strata_domain::config::input::SettingsInput;
use strata_domain::date::{Date, Window};
use strata_store::{NewRun, Recompute, Role, Run, RunKind};

/// A run request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The types to classify, in any order.
    types: Vec<String>,
    /// `YYYY-MM-DD`; default: today in the organisation's time zone.
    as_of: Option<String>,
}

/// The JSON form of a run.
fn run_json(run: &Run) -> Value {
    let duration = run
        .started_at
        .zip(run.finished_at)
        .map(|(s, f)| (f - s).num_milliseconds() as f64 / 1000.0);
    let periods: Vec<String> = run.kind.periods().iter().map(ToString::to_string).collect();
    json!({
        "id": run.id,
        "kind": run.kind.name(),
        "periods": periods,
        "types": run.types,
        "as_of": run.as_of.to_string(),
        "status": run.status,
        "progress": run.progress,
        "error": run.error,
        "report": run.report,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": duration,
    })
}

/// Today in the organisation's time zone.
pub(super) fn today(settings: &SettingsInput) -> ApiResult<Date> {
    let checked = strata_domain::config::validate_settings(settings.clone())
        .map_err(|e| ApiError::Invalid(e.problems))?;
    let now = chrono::Utc::now();
    Ok(checked
        .today(now)
        .unwrap_or_else(|| Date::from_naive(now.with_timezone(&chrono::Local).date_naive())))
}

/// `FROM..TO` of field `field`, or a 400 naming it.
fn period(field: &str, text: &str) -> ApiResult<Window> {
    Window::parse_period(text).map_err(|e| ApiError::BadRequest(format!("{field}: {e}")))
}

/// Queues a run of the types set to `recompute = "after_import"` once an
/// import is stored: the run's JSON, `{"not_queued": why}` when a run of
/// those types is already under way for another date, `None` without such
/// types.
pub(crate) async fn after_import(state: &AppState, caller: &Caller) -> ApiResult<Option<Value>> {
    let types: Vec<String> = state
        .store
        .types(caller.org)
        .await?
        .into_iter()
        .filter(|t| t.recompute == Recompute::AfterImport)
        .map(|t| t.name)
        .collect();
    if types.is_empty() {
        return Ok(None);
    }
    queue_quietly(state, caller, types).await.map(Some)
}

/// Queues a run of `types` as of today in the organisation, asked by the
/// caller: the run's JSON, or `{"not_queued": why}` when a run of those
/// types is already under way for another date.
pub(crate) async fn queue_quietly(
    state: &AppState,
    caller: &Caller,
    types: Vec<String>,
) -> ApiResult<Value> {
    match queue(state, caller, RunKind::Segment, types, None).await {
        Ok((_, Json(run))) => Ok(run),
        Err(ApiError::Conflict(why)) => Ok(json!({ "not_queued": why })),
        Err(e) => Err(e),
    }
}

async fn queue(
    state: &AppState,
    caller: &Caller,
    kind: RunKind,
    types: Vec<String>,
    as_of: Option<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    if types.is_empty() {
        return Err(ApiError::BadRequest("types: name at least one type".into()));
    }
    let store = &state.store;
    let settings = store.settings(caller.org).await?;
    let as_of = match (as_of, kind.periods().last()) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "as_of: a run over a period is as of the period's last day".into(),
            ))
        }
        (None, Some(last)) => last.last,
        (Some(text), None) => Date::parse_iso(&text).ok_or_else(|| {
            ApiError::BadRequest(format!("as_of '{text}' is not a date; expected YYYY-MM-DD"))
        })?,
        (None, None) => today(&settings)?,
    };
    let stored = store.types(caller.org).await?;
    let planned = match kind {
        RunKind::Segment => {
            let latest = store.latest_results(caller.org).await?;
            plan_run(&settings, &stored, &latest, &types).map(drop)
        }
        RunKind::Period(_) | RunKind::Compare(_) => plan_one_off(
            &settings,
            &stored,
            &types[0],
            matches!(kind, RunKind::Compare(_)),
        )
        .map(drop),
    };
    match planned {
        Ok(()) => {}
        Err(e @ PlanError::UnknownType(_)) => return Err(ApiError::NotFound(e.message())),
        Err(e @ PlanError::Groups(_)) => return Err(ApiError::BadRequest(e.message())),
        Err(e) => return Err(ApiError::Conflict(e.message())),
    }
    let (run, created) = store
        .create_run(
            caller.org,
            &NewRun {
                kind,
                types,
                as_of,
                actor: caller.label.clone(),
            },
        )
        .await?;
    if created {
        state.runner.wake();
        Ok((StatusCode::ACCEPTED, Json(run_json(&run))))
    } else {
        Ok((StatusCode::OK, Json(run_json(&run))))
    }
}

/// Queues a run of some types.
#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", security(("bearer" = [])), request_body(content = RunRequest), responses((status = 202, body = Object), (status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_run(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<RunRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = body(json)?;
    queue(
        &state,
        &caller,
        RunKind::Segment,
        request.types,
        request.as_of,
    )
    .await
}

/// The body of a run of one type.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeRunRequest {
    /// `YYYY-MM-DD`; default: today in the organisation's time zone.
    as_of: Option<String>,
    /// `FROM..TO`: a one-off segmentation over this date range instead
    /// (its rows stay with the run; the type's members do not change).
    period: Option<String>,
}

/// Queues a run of one type, or a one-off run of it over a period.
#[utoipa::path(post, path = "/api/v1/segment-types/{name}/runs", tag = "runs", security(("bearer" = [])), params(("name" = String, Path)), request_body(content = Option<TypeRunRequest>), responses((status = 202, body = Object), (status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_type_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    json: Option<Json<TypeRunRequest>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = json.map(|j| j.0).unwrap_or_default();
    let kind = match request.period {
        Some(text) => RunKind::Period(period("period", &text)?),
        None => RunKind::Segment,
    };
    queue(&state, &caller, kind, vec![name], request.as_of).await
}

/// The body of a comparison.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// `FROM..TO`, the first period.
    period_a: String,
    /// `FROM..TO`, the second period.
    period_b: String,
}

/// Queues a comparison of one type over two periods, as `strata compare`
/// makes it on the stored lines; its rows stay with the run.
#[utoipa::path(post, path = "/api/v1/segment-types/{name}/compare", tag = "runs", security(("bearer" = [])), params(("name" = String, Path)), request_body(content = CompareRequest), responses((status = 202, body = Object), (status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn post_compare(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    json: Result<Json<CompareRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = body(json)?;
    let periods = [
        period("period_a", &request.period_a)?,
        period("period_b", &request.period_b)?,
    ];
    queue(&state, &caller, RunKind::Compare(periods), vec![name], None).await
}

/// One run.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let run = state
        .store
        .run(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    Ok(Json(run_json(&run)))
}

/// Asks a run to stop; its previous results stay in force.
#[utoipa::path(post, path = "/api/v1/runs/{id}/cancel", tag = "runs", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    if !state.store.cancel_run(caller.org, id).await? {
        let run = state.store.run(caller.org, id).await?;
        return match run {
            None => Err(ApiError::NotFound(format!("no run {id}"))),
            Some(run) => Err(ApiError::Conflict(format!(
                "run {id} already ended: {}",
                run.status.as_str()
            ))),
        };
    }
    state.runner.cancel(id);
    let run = state.store.run(caller.org, id).await?;
    Ok(Json(run.as_ref().map(run_json).unwrap_or(Value::Null)))
}

/// How many runs a size series looks back over, by default and at most.
const DEFAULT_RUNS: u32 = 100;
const MAX_RUNS: u32 = 1000;

/// The query of a size series.
#[derive(Deserialize)]
pub struct SizesQuery {
    limit: Option<u32>,
}

/// Segment sizes over time: the members of each segment after every
/// successful run that classified the type, among the organisation's
/// latest `limit` runs, oldest first.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/sizes", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000)), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn type_sizes(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SizesQuery>,
) -> ApiResult<Json<Value>> {
    super::types::segment_type(&state, &caller, &name).await?;
    let limit = super::data::page_limit(query.limit, DEFAULT_RUNS, MAX_RUNS)?;
    let runs = state.store.succeeded_runs(caller.org, limit).await?;
    let series: Vec<Value> = runs
        .iter()
        .filter(|run| run.kind == RunKind::Segment)
        .filter_map(|run| {
            let report = run.report.as_ref()?;
            let own = report.types.iter().find(|t| t.name == name)?;
            Some(json!({
                "run_id": run.id,
                "as_of": run.as_of.to_string(),
                "finished_at": run.finished_at,
                "version": own.version,
                "counts": own.counts,
                "changed": own.changed,
            }))
        })
        .collect();
    Ok(Json(json!({"segment_type": name, "runs": series})))
}
