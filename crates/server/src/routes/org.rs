//! Probes, organisation settings and tokens.

use super::body;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::types::organisation_config;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use strata_domain::config::input::SettingsInput;
use strata_domain::config::problem::{Problem, ProblemCode};
use strata_domain::config::validate_settings;
use strata_store::{Retention, Role};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "probes", responses((status = 200, description = "The process is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "probes", responses((status = 200, description = "The database answers", body = String), (status = 503, description = "The database does not answer", body = String)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")),
    }
}

/// The organisation's settings as stored, with its retention (`keep_runs`,
/// `history_days`).
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), responses((status = 200, description = "The organisation's settings", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let settings = state.store.settings(caller.org).await?;
    let retention = state.store.retention(caller.org).await?;
    Ok(Json(settings_json(&settings, &retention)?))
}

/// Replaces the settings, validated with the stored types; `keep_runs`
/// (how many runs of each type keep their rows, default 24) and
/// `history_days` (how long history keeps entries, null for ever, the
/// default) belong to the server and keep their value when absent, so
/// that applying a configuration file (which cannot hold them) keeps them.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), request_body(content = Object, description = "currency, closed_statuses, attributes, time_zone, keep_runs, history_days"), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let mut value = body(json)?;
    let current = state.store.retention(caller.org).await?;
    let retention = retention_of(&mut value, current)?;
    let settings: SettingsInput = settings_of(value)?;
    validate_settings(settings.clone()).map_err(|e| ApiError::Invalid(e.problems))?;
    let types = state.store.types(caller.org).await?;
    if !types.is_empty() {
        organisation_config(&settings, &types).map_err(ApiError::Invalid)?;
    }
    state.store.set_settings(caller.org, &settings).await?;
    state.store.set_retention(caller.org, &retention).await?;
    Ok(Json(settings_json(&settings, &retention)?))
}

/// Settings and retention as one object.
fn settings_json(settings: &SettingsInput, retention: &Retention) -> ApiResult<Value> {
    let mut value =
        serde_json::to_value(settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Value::Object(object) = &mut value {
        object.insert(Retention::KEYS[0].into(), json!(retention.keep_runs));
        object.insert(Retention::KEYS[1].into(), json!(retention.history_days));
    }
    Ok(value)
}

/// Takes the retention keys out of a settings body: each a whole number
/// from 1 (`history_days` may be null: for ever); absent, as `current`.
fn retention_of(value: &mut Value, current: Retention) -> ApiResult<Retention> {
    let mut problems = Vec::new();
    // Absent: None; present: Some(the number, or None for null).
    let mut take = |key: &str| -> Option<Option<u32>> {
        let found = value.as_object_mut()?.remove(key)?;
        if found.is_null() {
            return Some(None);
        }
        match found
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
        {
            Some(n) => Some(Some(n)),
            None => {
                problems.push(Problem {
                    path: key.to_owned(),
                    code: ProblemCode::OutOfRange,
                    message: format!("{key} is {found}, expected a whole number from 1"),
                    place: String::new(),
                });
                None
            }
        }
    };
    let keep_runs = match take(Retention::KEYS[0]) {
        None => current.keep_runs,
        Some(n) => n.unwrap_or(Retention::KEEP_RUNS),
    };
    let history_days = take(Retention::KEYS[1]).unwrap_or(current.history_days);
    if problems.is_empty() {
        Ok(Retention {
            keep_runs,
            history_days,
        })
    } else {
        Err(ApiError::Invalid(problems))
    }
}

/// A settings body, or why it is not one.
fn settings_of(value: Value) -> ApiResult<SettingsInput> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::Invalid(vec![Problem {
            path: String::new(),
            code: ProblemCode::Malformed,
            message: e.to_string(),
            place: String::new(),
        }])
    })
}

/// The organisation's tokens, without secrets.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), responses((status = 200, description = "Tokens without their secrets", body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let tokens = state.store.tokens(caller.org).await?;
    Ok(Json(Value::Array(
        tokens
            .into_iter()
            .map(|t| json!({"id": t.id, "role": t.role, "label": t.label, "created_at": t.created_at}))
            .collect(),
    )))
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    if state.store.delete_token(caller.org, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no token {id}")))
    }
}
