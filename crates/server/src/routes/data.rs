//! Customers and sales lines: JSON batches in, pages and details out.

use super::{body, locale};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::explain::{explain, places, to_json};

use crate::wire::LineJson;
use crate::{wire, AppState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use strata_domain::columns::CustomerColumn;
use strata_report::format::Lang;
use strata_store::{search_query, CustomerQuery, ListEntry, Role};

/// Customers per page by default, and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Upserts a JSON batch of customers, all or nothing.
#[utoipa::path(post, path = "/api/v1/customers", tag = "data", security(("bearer" = [])), request_body(content = Vec<Object>, description = "customer_id and attributes, all strings"), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_customers(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let customers = wire::customers(&body(json)?).map_err(ApiError::Rows)?;
    let changed = super::lists::upsert_customers(&state, &caller, &customers).await?;
    Ok(Json(
        json!({"received": customers.len(), "changed": changed, "run": super::runs::after_import(&state, &caller).await?}),
    ))
}

/// Stores a JSON batch of sales lines, all or nothing.
#[utoipa::path(post, path = "/api/v1/transactions", tag = "data", security(("bearer" = [])), request_body(content = Vec<LineJson>), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_transactions(
    State(state): State<AppState>,
    caller: Caller,
    json: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let import = wire::lines(&body(json)?).map_err(ApiError::Rows)?;
    let changed = state.store.import_lines(caller.org, &import).await?;
    Ok(Json(
        json!({"received": import.lines.len(), "changed": changed, "run": super::runs::after_import(&state, &caller).await?}),
    ))
}

/// The query of a customer list.
#[derive(Deserialize)]
pub struct ListQuery {
    segment_type: Option<String>,
    segment: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A page of customers ordered by id; `next_cursor` is null at the end.
#[utoipa::path(get, path = "/api/v1/customers", tag = "data", security(("bearer" = [])), params(("segment_type" = Option<String>, Query), ("segment" = Option<String>, Query), ("q" = Option<String>, Query), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, minimum = 1, maximum = 500)), responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    if query.segment.is_some() && query.segment_type.is_none() {
        return Err(ApiError::BadRequest(
            "segment needs segment_type".to_owned(),
        ));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = state
        .store
        .customers(
            caller.org,
            &CustomerQuery {
                after,
                limit: limit + 1,
                segment: query.segment_type.map(|t| (t, query.segment)),
                search: query
                    .q
                    .as_deref()
                    .map(search_query)
                    .filter(|q| !q.is_empty()),
            },
        )
        .await?;
    let more = page.len() > limit as usize;
    let customers: Vec<Value> = page
        .iter()
        .take(limit as usize)
        .map(|c| json!({"customer_id": c.id, "attributes": c.attributes}))
        .collect();
    let next_cursor = more
        .then(|| page.get(limit as usize - 1).map(|c| encode_cursor(&c.id)))
        .flatten();
    Ok(Json(
        json!({"customers": customers, "next_cursor": next_cursor}),
    ))
}

/// A cursor: the last customer id of a page, hex-encoded so that it is
/// opaque and safe in a URL.
pub(super) fn encode_cursor(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A page's size: `asked`, else `default`, refused outside 1 to `max`.
pub(super) fn page_limit(asked: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    let limit = asked.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::BadRequest(format!(
            "limit {limit}: expected 1 to {max}"
        )))
    }
}

/// A cursor that [`encode_cursor`] made of a numeric id.
pub(super) fn decode_id_cursor(cursor: &str) -> ApiResult<i64> {
    decode_cursor(cursor)?
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("cursor '{cursor}' is not one this API gave")))
}

/// The id a cursor that [`encode_cursor`] made holds.
pub(super) fn decode_cursor(cursor: &str) -> ApiResult<String> {
    let bad = || ApiError::BadRequest(format!("cursor '{cursor}' is not one this server gave"));
    if !cursor.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| {
            cursor
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Erases a customer (a person's right to be forgotten): its attributes,
/// lines, results and manual assignments; its types become stale.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "data", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erase_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    // The types that give a customer several segments, for the entries
    // its erasure records (an organisation without types has none).
    let definitions = state.store.definitions(caller.org).await?;
    let groups: Vec<String> = if definitions.types.is_empty() {
        Vec::new()
    } else {
        let config = state
            .configs
            .get(&*state.store, caller.org, definitions.config_version)
            .await?;
        config
            .types
            .iter()
            .filter(|t| !t.one_per_account())
            .map(|t| t.name.clone())
            .collect()
    };
    let erased = state
        .store
        .erase_customer(caller.org, &id, &caller.label, &groups)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no customer '{id}'")))?;
    tracing::info!(org = caller.org, "customer erased");
    Ok(Json(json!({"customer_id": id, "erased": erased})))
}

/// The query of a customer's detail.
#[derive(Deserialize)]
pub struct DetailQuery {
    locale: Option<String>,
    /// `false` leaves the explanations out (a lookup then reads no line).
    explain: Option<bool>,
}

/// A customer: attributes and, per type, its automatic, manual and
/// effective segments with the figures that decided them and why, in the
/// caller's language (`locale`, else `Accept-Language`).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "data", security(("bearer" = [])), params(("id" = String, Path), ("locale" = Option<String>, Query, description = "en or fr; else Accept-Language"), ("explain" = Option<bool>, Query, description = "false leaves the explanations out")), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let lang = match locale(query.locale.as_deref())? {
        Some(lang) => lang,
        None => Lang::from_locale(
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim_start()),
        ),
    };
    let detail = state
        .store
        .customer_detail(caller.org, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no customer '{id}'")))?;
    let config = state
        .configs
        .get(&*state.store, caller.org, detail.config_version)
        .await?;
    let places = places(&config, &detail);
    let entries = state.store.list_entries(caller.org).await?;
    let mut explained = if query.explain.unwrap_or(true) {
        explain(
            &*state.store,
            caller.org,
            &config,
            &detail,
            &places,
            &entries,
        )
        .await?
    } else {
        Default::default()
    };
    // The static lists naming the customer, by id or by e-mail.
    let email = detail
        .customer
        .attributes
        .get(CustomerColumn::Email.name())
        .map(|e| e.trim().to_lowercase());
    let listed: Vec<&ListEntry> = entries
        .iter()
        .filter(|e| e.entry == detail.customer.id || Some(&e.entry) == email.as_ref())
        .collect();
    let on_list = |type_name: &str, exclude: bool| -> Vec<&str> {
        listed
            .iter()
            .filter(|e| e.type_name == type_name && e.exclude == exclude)
            .map(|e| e.segment.as_str())
            .collect()
    };
    let segments: Vec<Value> = places
        .iter()
        .map(|p| {
            let figures: BTreeMap<&str, &BTreeMap<String, String>> = p
                .rows
                .iter()
                .map(|r| (r.segment.as_str(), &r.figures))
                .collect();
            json!({
                "segment_type": p.ty.name,
                "automatic": p.automatic.iter().map(|a| a.0).collect::<Vec<_>>(),
                "manual": p.manual,
                "effective": p.effective,
                "sources": p.rows.iter().map(|r| (r.segment.as_str(), r.source.as_str())).collect::<BTreeMap<_, _>>(),
                "included_in": on_list(&p.ty.name, false),
                "excluded_from": on_list(&p.ty.name, true),
                "figures": figures,
                "explanation": explained.remove(&p.ty.name).map(|e| to_json(&e, lang)),
            })
        })
        .collect();
    let customer = &detail.customer;
    Ok(Json(json!({
        "customer_id": customer.id,
        "attributes": customer.attributes,
        "segments": segments,
    })))
}
