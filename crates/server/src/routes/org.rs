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
use strata_domain::config::validate_settings;
use strata_store::Role;

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

/// The organisation's settings as stored.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), responses((status = 200, description = "The organisation's settings", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<SettingsInput>> {
    Ok(Json(state.store.settings(caller.org).await?))
}

/// Replaces the settings, validated with the stored types.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), request_body(content = Object, description = "currency, closed_statuses, attributes, time_zone"), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<SettingsInput>> {
    caller.require(Role::Admin)?;
    let value = body(json)?;
    let settings: SettingsInput = settings_of(value)?;
    validate_settings(settings.clone()).map_err(|e| ApiError::Invalid(e.problems))?;
    let types = state.store.types(caller.org).await?;
    if !types.is_empty() {
        organisation_config(&settings, &types).map_err(ApiError::Invalid)?;
    }
    state.store.set_settings(caller.org, &settings).await?;
    Ok(Json(settings))
}

/// A settings body, or why it is not one.
fn settings_of(value: Value) -> ApiResult<SettingsInput> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::Invalid(vec![strata_domain::config::problem::Problem {
            path: String::new(),
            code: strata_domain::config::problem::ProblemCode::Malformed,
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
