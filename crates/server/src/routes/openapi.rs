//! The OpenAPI document of the API, at `/api/openapi.json`, generated from
//! the handlers' annotations so that it cannot drift from the routes.

use super::{
    data, freeze, history, imports, lists, members, notifications, org, preview, run_rows, runs,
    types,
};
use crate::error::{ErrorBody, RowError};
use crate::wire::LineJson;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strata",
        description = "Customer segmentation: ABC/Pareto tiers, RFM groups and rules segments over stored sales lines"
    ),
    paths(
        org::healthz, org::readyz, org::get_settings, org::put_settings, org::list_tokens, org::delete_token, notifications::list, notifications::mark_read,
        data::post_customers, data::post_transactions, data::list_customers, data::get_customer, data::erase_customer, history::customer_history, history::segment_history,
        imports::import_customers, imports::import_transactions,
        types::list_types, types::get_type, types::put_type, types::delete_type,
        types::put_manual, types::delete_manual, types::clear_manual, types::rename_type, types::type_status, types::type_changes, lists::change_members, freeze::freeze, freeze::freeze_rows, runs::type_sizes, history::migration,
        members::export_members,
        runs::post_run, runs::post_type_run, runs::post_compare, runs::get_run, runs::cancel_run, run_rows::export_run_rows, preview::preview,
    ),
    components(schemas(ErrorBody, RowError, LineJson, types::ManualBody, types::RenameBody, lists::MembersBody, freeze::FreezeBody, freeze::FreezeRowsBody, lists::By, runs::RunRequest, runs::TypeRunRequest, runs::CompareRequest, preview::PreviewRequest)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// Tokens go in `Authorization: Bearer TOKEN`.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
