//! The HTTP API, `/api/v1/...`, and the probes. Every handler takes the
//! [`Caller`](crate::auth::Caller) and scopes every store call by its
//! organisation: what belongs to another organisation is simply not found.

mod data;
mod freeze;
mod history;
mod imports;
mod lists;
mod members;
mod notifications;
mod openapi;
mod org;
mod preview;
mod run_rows;
mod runs;
mod types;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use strata_report::format::Lang;

/// A `locale` parameter: `en` or `fr`, `None` when absent.
fn locale(param: Option<&str>) -> Result<Option<Lang>, ApiError> {
    param
        .map(|text| {
            Lang::parse(text)
                .ok_or_else(|| ApiError::BadRequest(format!("locale '{text}': expected en or fr")))
        })
        .transpose()
}

/// Every route, with the state and the body limit.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_json_bytes;
    let api = Router::new()
        .route("/settings", get(org::get_settings).put(org::put_settings))
        .route("/tokens", get(org::list_tokens))
        .route("/tokens/{id}", axum::routing::delete(org::delete_token))
        .route("/notifications", get(notifications::list))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route(
            "/customers",
            get(data::list_customers).post(data::post_customers),
        )
        .route(
            "/customers/{id}",
            get(data::get_customer).delete(data::erase_customer),
        )
        .route("/customers/{id}/history", get(history::customer_history))
        .route(
            "/segment-types/{name}/segments/{segment}/history",
            get(history::segment_history),
        )
        .route("/transactions", post(data::post_transactions))
        .route("/imports/customers", post(imports::import_customers))
        .route("/imports/transactions", post(imports::import_transactions))
        .route("/segment-types", get(types::list_types))
        .route(
            "/segment-types/{name}",
            get(types::get_type)
                .put(types::put_type)
                .delete(types::delete_type),
        )
        .route("/segment-types/{name}/runs", post(runs::post_type_run))
        .route("/segment-types/{name}/compare", post(runs::post_compare))
        .route("/segment-types/{name}/rename", post(types::rename_type))
        .route(
            "/segment-types/{name}/segments/{segment}/freeze",
            post(freeze::freeze),
        )
        .route("/runs/{id}/freeze", post(freeze::freeze_rows))
        .route("/segment-types/{name}/status", get(types::type_status))
        .route("/segment-types/{name}/changes", get(types::type_changes))
        .route("/segment-types/{name}/sizes", get(runs::type_sizes))
        .route("/segment-types/{name}/migration", get(history::migration))
        .route(
            "/segment-types/{name}/manual",
            axum::routing::delete(types::clear_manual),
        )
        .route(
            "/segment-types/{name}/manual/{customer}",
            put(types::put_manual).delete(types::delete_manual),
        )
        .route(
            "/segment-types/{name}/segments/{segment}/members",
            get(members::export_members).post(lists::change_members),
        )
        .route("/preview", post(preview::preview))
        .route("/runs", post(runs::post_run))
        .route("/runs/{id}", get(runs::get_run))
        .route("/runs/{id}/rows", get(run_rows::export_run_rows))
        .route("/runs/{id}/cancel", post(runs::cancel_run));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(org::healthz))
        .route("/readyz", get(org::readyz))
        .route("/metrics", get(crate::metrics::render))
        .route("/api/openapi.json", get(openapi::document))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A JSON body, or a 400 saying what is wrong with it.
fn body<T>(json: Result<axum::Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|j| j.0).map_err(|e| match e {
        JsonRejection::BytesRejection(e) => ApiError::BadRequest(e.body_text()),
        other => ApiError::BadRequest(other.body_text()),
    })
}
