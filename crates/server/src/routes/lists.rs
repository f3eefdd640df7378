//! Static members of a rules segment: customers added or removed by hand,
//! kept on the segment's include and exclude lists in the store so that no
//! run and no `PUT` of the type undoes them.

use super::body;
use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use strata_domain::classify::{automatic_segment, Source};
use strata_domain::segment_type::Method;
use strata_store::{ListChange, OrgId, Role, Store};

/// How the entries of a change name customers.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// Customer ids.
    #[default]
    CustomerId,
    /// E-mails: each names every account that has it, ignoring case.
    Email,
}

/// Customers to add to a segment or remove from it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    /// Onto the include list (and off the exclude list).
    #[serde(default)]
    add: Vec<String>,
    /// Off the include list; onto the exclude list when the rule still
    /// matches.
    #[serde(default)]
    remove: Vec<String>,
    /// `customer_id` (the default) or `email`.
    #[serde(default)]
    by: By,
}

/// The customers an entry names: the id if it exists, or every account
/// with the e-mail. The entry kept is the id, or the e-mail in lower case.
async fn resolve(
    store: &dyn Store,
    org: OrgId,
    by: By,
    entry: &str,
) -> ApiResult<(String, Vec<String>)> {
    let entry = entry.trim();
    Ok(match by {
        By::CustomerId => {
            let found = store.customer(org, entry).await?.is_some();
            (
                entry.to_owned(),
                found.then(|| entry.to_owned()).into_iter().collect(),
            )
        }
        By::Email => (
            entry.to_lowercase(),
            store.customers_by_email(org, entry).await?,
        ),
    })
}

/// Whether the segment's rule gave it to any of these customers in the
/// type's latest result (a manual segment keeps what the rule gave).
async fn rule_matched(
    store: &dyn Store,
    org: OrgId,
    type_name: &str,
    segment: &str,
    customers: &[String],
) -> ApiResult<bool> {
    for customer in customers {
        let Some(detail) = store.customer_detail(org, customer).await? else {
            continue;
        };
        let matched = detail
            .results
            .iter()
            .filter(|r| r.type_name == type_name)
            .any(|r| {
                let source = Source::from_name(&r.source).unwrap_or(Source::Computed);
                source != Source::Include
                    && automatic_segment(source, &r.segment, r.auto_segment.as_deref())
                        == Some(segment)
            });
        if matched {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The static members of a type's segments: `{segment: {include, exclude}}`.
pub async fn static_members(
    store: &dyn Store,
    org: OrgId,
    type_name: &str,
) -> ApiResult<BTreeMap<String, Value>> {
    let mut out: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for e in store.list_entries(org).await? {
        if e.type_name != type_name {
            continue;
        }
        let lists = out.entry(e.segment).or_default();
        if e.exclude {
            lists.1.push(e.entry);
        } else {
            lists.0.push(e.entry);
        }
    }
    Ok(out
        .into_iter()
        .map(|(segment, (include, exclude))| {
            (segment, json!({"include": include, "exclude": exclude}))
        })
        .collect())
}

/// Adds customers to a rules segment by hand or removes them; entries
/// that name nobody come back under `unmatched`.
#[utoipa::path(post, path = "/api/v1/segment-types/{name}/segments/{segment}/members", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("segment" = String, Path)), request_body(content = MembersBody), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_members(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, segment)): Path<(String, String)>,
    json: Result<Json<MembersBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let ty = segment_type(&state, &caller, &name).await?;
    if ty.segment_idx(&segment).is_none() {
        return Err(ApiError::NotFound(format!(
            "'{name}' has no segment '{segment}'"
        )));
    }
    if !matches!(ty.method, Method::Rules(_)) {
        return Err(ApiError::Conflict(format!(
            "'{name}' is not a rules type: its segments have no static members; set a manual segment instead"
        )));
    }
    let request = body(json)?;
    let store = &*state.store;
    let mut change = ListChange::default();
    let mut unmatched = Vec::new();
    for entry in &request.add {
        let (kept, customers) = resolve(store, caller.org, request.by, entry).await?;
        if customers.is_empty() {
            unmatched.push(entry.clone());
        } else {
            change.include.push(kept);
        }
    }
    for entry in &request.remove {
        let (kept, customers) = resolve(store, caller.org, request.by, entry).await?;
        if customers.is_empty() {
            unmatched.push(entry.clone());
        } else if rule_matched(store, caller.org, &name, &segment, &customers).await? {
            change.exclude.push(kept);
        } else {
            change.unlist.push(kept);
        }
    }
    store
        .change_list(caller.org, &name, &segment, &change)
        .await?;
    Ok(Json(json!({
        "segment_type": name,
        "segment": segment,
        "included": change.include,
        "excluded": change.exclude,
        "unlisted": change.unlist,
        "unmatched": unmatched,
        "members": static_members(store, caller.org, &name).await?.remove(&segment),
    })))
}
