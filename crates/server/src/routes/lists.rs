//! Static members of a rules segment: customers added or removed by hand,
//! kept on the segment's include and exclude lists in the store so that no
//! run and no `PUT` of the type undoes them.

use super::body;
use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::explain::{places, rules_rows};
use crate::types::SegmentLists;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use strata_domain::classify::{automatic_of, Source};
use strata_domain::segment_type::Method;
use strata_store::{Cause, Customer, ListChange, ManualChange, OrgId, Role, Store};

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
            .any(|r| automatic_of([r.stored()]).first() == Some(&(segment, Source::Computed)));
        if matched {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The static members the store keeps, by type and segment.
pub async fn lists_by_type(
    store: &dyn Store,
    org: OrgId,
) -> ApiResult<BTreeMap<String, SegmentLists>> {
    let mut out: BTreeMap<String, SegmentLists> = BTreeMap::new();
    for e in store.list_entries(org).await? {
        let lists = out
            .entry(e.type_name)
            .or_default()
            .entry(e.segment)
            .or_default();
        if e.exclude {
            lists.1.push(e.entry);
        } else {
            lists.0.push(e.entry);
        }
    }
    Ok(out)
}

/// The static members of one segment: `{include, exclude}`.
async fn static_members(
    store: &dyn Store,
    org: OrgId,
    type_name: &str,
    segment: &str,
) -> ApiResult<Value> {
    let lists = lists_by_type(store, org).await?;
    let (include, exclude) = lists
        .get(type_name)
        .and_then(|l| l.get(segment))
        .cloned()
        .unwrap_or_default();
    Ok(json!({"include": include, "exclude": exclude}))
}

/// Has the engine classify these customers again in a rules type, on
/// their own lines as of the type's latest run, and replaces their rows:
/// a change of what the static lists name takes effect at once, recorded
/// in history under `cause`.
pub(crate) async fn reclassify(
    state: &AppState,
    caller: &Caller,
    type_name: &str,
    customers: &BTreeSet<String>,
    cause: Cause,
) -> ApiResult<()> {
    let store = &*state.store;
    let entries = store.list_entries(caller.org).await?;
    for customer in customers {
        let Some(detail) = store.customer_detail(caller.org, customer).await? else {
            continue;
        };
        let config = state
            .configs
            .get(store, caller.org, detail.config_version)
            .await?;
        let Some(ty) = config.find_type(type_name) else {
            continue;
        };
        let change = ManualChange {
            actor: &caller.label,
            one_per_account: ty.one_per_account(),
        };
        let places = places(&config, &detail);
        if let Some(rows) = rules_rows(
            store, caller.org, &config, &detail, &places, &entries, type_name,
        )
        .await?
        {
            store
                .replace_customer_rows(caller.org, type_name, customer, &rows, change, cause)
                .await?;
        }
    }
    Ok(())
}

/// `(type, customer)` for every account an e-mail entry names, in each
/// type listing it.
async fn named_by(
    store: &dyn Store,
    org: OrgId,
    emails: &BTreeMap<String, BTreeSet<String>>,
) -> ApiResult<BTreeSet<(String, String)>> {
    let mut out = BTreeSet::new();
    for (email, types) in emails {
        for id in store.customers_by_email(org, email).await? {
            out.extend(types.iter().map(|t| (t.clone(), id.clone())));
        }
    }
    Ok(out)
}

/// Upserts customers; where that changes which accounts an e-mail on a
/// static list names, those accounts are classified again at once (cause
/// `import`).
pub(crate) async fn upsert_customers(
    state: &AppState,
    caller: &Caller,
    customers: &[Customer],
) -> ApiResult<u64> {
    let store = &*state.store;
    // E-mail entries, by the rules types listing them: usually a handful.
    let mut by_email: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in store.list_entries(caller.org).await? {
        if e.entry.contains('@') {
            by_email.entry(e.entry).or_default().insert(e.type_name);
        }
    }
    let before = named_by(store, caller.org, &by_email).await?;
    let changed = store.upsert_customers(caller.org, customers).await?;
    if by_email.is_empty() {
        return Ok(changed);
    }
    let after = named_by(store, caller.org, &by_email).await?;
    let mut moved: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (type_name, id) in before.symmetric_difference(&after) {
        moved
            .entry(type_name.clone())
            .or_default()
            .insert(id.clone());
    }
    for (type_name, ids) in moved {
        reclassify(state, caller, &type_name, &ids, Cause::Import).await?;
    }
    Ok(changed)
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
    let mut named = BTreeSet::new();
    for entry in &request.add {
        let (kept, customers) = resolve(store, caller.org, request.by, entry).await?;
        if customers.is_empty() {
            unmatched.push(entry.clone());
        } else {
            change.include.push(kept);
            named.extend(customers);
        }
    }
    for entry in &request.remove {
        let (kept, customers) = resolve(store, caller.org, request.by, entry).await?;
        named.extend(customers.iter().cloned());
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
    // The change takes effect at once: the engine classifies each
    // customer it names again, the other customers keep their rows.
    reclassify(&state, &caller, &name, &named, Cause::List).await?;
    Ok(Json(json!({
        "segment_type": name,
        "segment": segment,
        "included": change.include,
        "excluded": change.exclude,
        "unlisted": change.unlist,
        "unmatched": unmatched,
        "members": static_members(store, caller.org, &name, &segment).await?,
    })))
}
