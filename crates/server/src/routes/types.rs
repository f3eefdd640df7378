//! Segment types and manual assignments.

use super::body;
use super::lists::lists_by_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::types::{
    body_of, check_definition, organisation_config, split_body, take_lists, with_lists,
};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use strata_domain::config::references;
use strata_domain::segment_type::SegmentType;
use strata_store::{Change, ListChange, ManualChange, PutType, RenameType, Role, TypeRecord};

/// A change of manual segments by the caller in `ty`.
fn manual_change<'a>(caller: &'a Caller, ty: &SegmentType) -> ManualChange<'a> {
    ManualChange {
        actor: &caller.label,
        one_per_account: ty.one_per_account(),
    }
}

async fn record(state: &AppState, caller: &Caller, name: &str) -> ApiResult<TypeRecord> {
    state
        .store
        .types(caller.org)
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no segment type named '{name}'")))
}

/// Every type, in the form `PUT` accepts.
#[utoipa::path(get, path = "/api/v1/segment-types", tag = "types", security(("bearer" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn list_types(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let types = state.store.types(caller.org).await?;
    let lists = lists_by_type(&*state.store, caller.org).await?;
    Ok(Json(Value::Array(
        types
            .iter()
            .map(|t| with_lists(body_of(t), lists.get(&t.name)))
            .collect(),
    )))
}

/// One type, exactly in the form `PUT` accepts.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), responses((status = 200, description = "The form PUT accepts", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let record = record(&state, &caller, &name).await?;
    let lists = lists_by_type(&*state.store, caller.org).await?;
    Ok(Json(with_lists(body_of(&record), lists.get(&name))))
}

/// Creates or replaces a type from the JSON form of one `[[types]]` entry.
#[utoipa::path(put, path = "/api/v1/segment-types/{name}", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), request_body(content = Object, description = "One [[types]] entry as JSON, plus is_default"), responses((status = 200, body = Object), (status = 201, body = Object), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    json: Result<Json<Value>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    let mut parts = split_body(&name, body(json)?)?;
    let store = &state.store;
    let settings = store.settings(caller.org).await?;
    let types = store.types(caller.org).await?;
    let checked = check_definition(&settings, &types, &name, &parts.definition)?;
    // Static members live in the store: the body's lists join them.
    let given = take_lists(&mut parts.definition);
    let (record, change) = store
        .put_type(
            caller.org,
            &PutType {
                name: name.clone(),
                definition: parts.definition,
                is_default: parts.is_default,
                actor: caller.label.clone(),
            },
        )
        .await?;
    // Manual assignments of segments the type no longer has are dropped.
    let segments: Vec<String> = checked.segments.iter().map(|s| s.name.clone()).collect();
    store
        .drop_manual_outside(
            caller.org,
            &name,
            &segments,
            manual_change(&caller, &checked),
        )
        .await?;
    let record = match parts.notify {
        Some(notify) => {
            store.set_notify(caller.org, &name, notify).await?;
            TypeRecord { notify, ..record }
        }
        None => record,
    };
    let record = match parts.recompute {
        Some(recompute) => {
            store.set_recompute(caller.org, &name, recompute).await?;
            TypeRecord {
                recompute,
                ..record
            }
        }
        None => record,
    };
    for (segment, (include, exclude)) in given {
        let change = ListChange {
            include,
            exclude,
            unlist: Vec::new(),
        };
        store
            .change_list(caller.org, &name, &segment, &change)
            .await?;
    }
    let status = if change == Change::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let lists = lists_by_type(&**store, caller.org).await?;
    Ok((status, Json(with_lists(body_of(&record), lists.get(&name)))))
}

/// Deletes a type, unless another type's rules read it.
#[utoipa::path(delete, path = "/api/v1/segment-types/{name}", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Editor)?;
    let store = &state.store;
    let settings = store.settings(caller.org).await?;
    let types = store.types(caller.org).await?;
    if !types.iter().any(|t| t.name == name) {
        return Err(ApiError::NotFound(format!(
            "no segment type named '{name}'"
        )));
    }
    let config = organisation_config(&settings, &types).map_err(ApiError::Invalid)?;
    let readers: Vec<&str> = config
        .types
        .iter()
        .filter(|t| references(t).contains(&name.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    if !readers.is_empty() {
        return Err(ApiError::Conflict(format!(
            "the rules of {} read '{name}': change them first",
            readers.join(", ")
        )));
    }
    store.delete_type(caller.org, &name, &caller.label).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who changed a type's definition and how, oldest first: each change as
/// an RFC 6902 JSON Patch from the definition before to the one after.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/changes", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn type_changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let changes = state.store.type_changes(caller.org, &name).await?;
    if changes.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no segment type named '{name}'"
        )));
    }
    let empty = Value::Object(serde_json::Map::new());
    let changes: Vec<Value> = changes
        .iter()
        .map(|c| {
            let before = c.before.as_ref().unwrap_or(&empty);
            let after = c.after.as_ref().unwrap_or(&empty);
            json!({
                "id": c.id,
                "at": c.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "action": c.action.as_str(),
                "actor": c.actor,
                "patch": json_patch::diff(before, after),
            })
        })
        .collect();
    Ok(Json(json!({"segment_type": name, "changes": changes})))
}

pub(super) async fn segment_type(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> ApiResult<SegmentType> {
    record(state, caller, name).await?;
    let settings = state.store.settings(caller.org).await?;
    let types = state.store.types(caller.org).await?;
    let config = organisation_config(&settings, &types).map_err(ApiError::Invalid)?;
    config
        .types
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no segment type named '{name}'")))
}

/// A manual assignment: `segment` for a tiered type, `segments` for groups.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualBody {
    /// The segment of a tiered type.
    segment: Option<String>,
    /// The groups of a group type.
    segments: Option<Vec<String>>,
}

/// Sets a customer's manual segment (`{"segment": "A"}`) or, in a group
/// type, manual groups (`{"segments": [...]}`).
#[utoipa::path(put, path = "/api/v1/segment-types/{name}/manual/{customer}", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("customer" = String, Path)), request_body(content = ManualBody), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_manual(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, customer)): Path<(String, String)>,
    json: Result<Json<ManualBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let ty = segment_type(&state, &caller, &name).await?;
    let request = body(json)?;
    let groups = !ty.one_per_account();
    let segments: Vec<String> = match (groups, request.segment, request.segments) {
        (false, Some(segment), None) => vec![segment],
        (true, None, Some(list)) => list,
        (false, ..) => {
            return Err(ApiError::BadRequest(format!(
                "'{name}' gives one segment per customer: send {{\"segment\": \"NAME\"}}"
            )))
        }
        (true, ..) => {
            return Err(ApiError::BadRequest(format!(
                "'{name}' is a group type: send {{\"segments\": [\"NAME\", ...]}}"
            )))
        }
    };
    for s in &segments {
        if ty.segment_idx(s).is_none() {
            return Err(ApiError::BadRequest(format!(
                "'{name}' has no segment '{s}'; it has {}",
                ty.segments
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if state.store.customer(caller.org, &customer).await?.is_none() {
        return Err(ApiError::NotFound(format!("no customer '{customer}'")));
    }
    state
        .store
        .set_manual(
            caller.org,
            &name,
            &customer,
            &segments,
            manual_change(&caller, &ty),
        )
        .await?;
    Ok(Json(
        json!({"segment_type": name, "customer_id": customer, "manual": segments}),
    ))
}

/// Clears a customer's manual segments in a type.
#[utoipa::path(delete, path = "/api/v1/segment-types/{name}/manual/{customer}", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("customer" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_manual(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, customer)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Editor)?;
    let ty = segment_type(&state, &caller, &name).await?;
    state
        .store
        .set_manual(
            caller.org,
            &name,
            &customer,
            &[],
            manual_change(&caller, &ty),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clears every manual assignment of a type.
#[utoipa::path(delete, path = "/api/v1/segment-types/{name}/manual", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn clear_manual(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let ty = segment_type(&state, &caller, &name).await?;
    let cleared = state
        .store
        .clear_manual(caller.org, &name, manual_change(&caller, &ty))
        .await?;
    Ok(Json(json!({"cleared": cleared})))
}

/// A rename.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    /// The new name.
    name: String,
}

/// Renames a type, keeping its id, and rewrites the rules that read it.
#[utoipa::path(post, path = "/api/v1/segment-types/{name}/rename", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), request_body(content = RenameBody), responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rename_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    json: Result<Json<RenameBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Editor)?;
    let to = body(json)?.name.trim().to_owned();
    let store = &state.store;
    let settings = store.settings(caller.org).await?;
    let types = store.types(caller.org).await?;
    let ty = segment_type(&state, &caller, &name).await?;
    if to.is_empty() {
        return Err(ApiError::BadRequest("name: the new name is empty".into()));
    }
    if types
        .iter()
        .any(|t| t.name != name && t.name.eq_ignore_ascii_case(&to))
    {
        return Err(ApiError::Conflict(format!(
            "a type named '{to}' already exists"
        )));
    }
    let mut renamed = None;
    let mut rewritten = Vec::new();
    for record in &types {
        let mut definition = record.definition.clone();
        if record.name == name {
            definition["name"] = Value::String(to.clone());
            // The id stays what it was, even when it came from the old name.
            definition["id"] = Value::String(ty.id.clone());
            renamed = Some(definition);
            continue;
        }
        let mut changed = false;
        if let Some(segments) = definition.get_mut("segments").and_then(Value::as_array_mut) {
            for segment in segments {
                let Some(text) = segment.get("rule").and_then(Value::as_str) else {
                    continue;
                };
                let Ok(mut rule) = strata_domain::rules::parse::parse(text, None) else {
                    continue;
                };
                if rule.rename_type(&name, &to) {
                    segment["rule"] = Value::String(rule.to_string());
                    changed = true;
                }
            }
        }
        if changed {
            rewritten.push((record.name.clone(), definition));
        }
    }
    let renamed =
        renamed.ok_or_else(|| ApiError::NotFound(format!("no segment type named '{name}'")))?;
    let mut all: Vec<&Value> = Vec::new();
    for record in &types {
        if record.name == name {
            all.push(&renamed);
        } else if let Some((_, d)) = rewritten.iter().find(|(n, _)| *n == record.name) {
            all.push(d);
        } else {
            all.push(&record.definition);
        }
    }
    crate::types::config_of(&settings, &all).map_err(ApiError::Invalid)?;
    store
        .rename_type(
            caller.org,
            &RenameType {
                from: name.clone(),
                to: to.clone(),
                definition: renamed,
                rewritten: rewritten.clone(),
                actor: caller.label.clone(),
            },
        )
        .await?;
    Ok(Json(json!({
        "renamed": {"from": name, "to": to},
        "rewritten": rewritten.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
    })))
}

/// Whether a type's latest result is stale, and why.
#[utoipa::path(get, path = "/api/v1/segment-types/{name}/status", tag = "types", security(("bearer" = [])), params(("name" = String, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn type_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let record = record(&state, &caller, &name).await?;
    let store = &state.store;
    let latest = store.latest_results(caller.org).await?;
    let data_version = store.data_version(caller.org).await?;
    let last = latest.iter().find(|s| s.type_name == name);
    let mut reasons = Vec::new();
    match last {
        None => reasons.push("never run"),
        Some(last) => {
            if last.data_version < data_version {
                reasons.push("data imported since its last successful run");
            }
            if last.version < record.version {
                reasons.push("definition changed since its last successful run");
            }
        }
    }
    Ok(Json(json!({
        "segment_type": name,
        "version": record.version,
        "last_run": last.map(|l| l.run_id),
        "stale": !reasons.is_empty(),
        "reasons": reasons,
    })))
}
