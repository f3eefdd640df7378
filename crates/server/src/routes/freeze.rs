//! Freezing a segment: its members now become a static group of a groups
//! type, for a campaign that must not change while it runs.

use super::body;
use super::runs::queue_quietly;
use super::types::segment_type;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::types::check_definition;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use strata_domain::config::input::TypeInput;
use strata_store::{ListChange, MembersQuery, PutType, Role, RunRowsQuery, RunStatus};

/// Members read per query while freezing.
const PAGE: u32 = 10_000;

/// Where the frozen members go.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeBody {
    /// A groups type (rules, not exclusive); created if it does not exist.
    target_type: String,
    /// The new group's name, not yet in the target type.
    name: String,
}

/// Saves a segment's current members as a new static group: the group
/// joins the target type's definition with the members on its include
/// list, and a run of the target type is queued so that it takes effect.
#[utoipa::path(post, path = "/api/v1/segment-types/{name}/segments/{segment}/freeze", tag = "types", security(("bearer" = [])), params(("name" = String, Path), ("segment" = String, Path)), request_body(content = FreezeBody), responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn freeze(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, segment)): Path<(String, String)>,
    json: Result<Json<FreezeBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    let request = body(json)?;
    let ty = segment_type(&state, &caller, &name).await?;
    if ty.segment_idx(&segment).is_none() {
        return Err(ApiError::NotFound(format!(
            "'{name}' has no segment '{segment}'"
        )));
    }
    let store = &*state.store;
    let mut members = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .members(
                caller.org,
                &MembersQuery {
                    type_name: name.clone(),
                    segment: segment.clone(),
                    after: after.clone(),
                    limit: PAGE,
                },
            )
            .await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|m| m.row.customer_id.clone());
        members.extend(page.into_iter().map(|m| m.row.customer_id));
        if !full {
            break;
        }
    }
    let source = json!({"segment_type": name, "segment": segment});
    freeze_into(&state, &caller, request, members, source).await
}

/// Adds the group `request.name` to the groups type `request.target_type`
/// (created if missing) with `members` on its include list, and queues a
/// run of that type.
async fn freeze_into(
    state: &AppState,
    caller: &Caller,
    request: FreezeBody,
    members: Vec<String>,
    source: Value,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let store = &*state.store;
    let target = request.target_type;
    let types = store.types(caller.org).await?;
    let existing = types.iter().find(|t| t.name == target);
    let mut definition = match existing {
        Some(record) => {
            let target_type = segment_type(state, caller, &target).await?;
            if target_type.one_per_account() {
                return Err(ApiError::Conflict(format!(
                    "'{target}' gives each customer one segment: freeze into a groups type (rules, exclusive = false)"
                )));
            }
            if target_type.segment_idx(&request.name).is_some() {
                return Err(ApiError::Conflict(format!(
                    "'{target}' already has a segment '{}'",
                    request.name
                )));
            }
            record.definition.clone()
        }
        None => json!({"name": target, "method": "rules", "exclusive": false}),
    };
    let Some(object) = definition.as_object_mut() else {
        return Err(ApiError::Internal(format!(
            "the stored definition of '{target}' is not an object"
        )));
    };
    let segments = object
        .entry(TypeInput::SEGMENTS)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = segments {
        list.push(json!({"name": request.name}));
    }
    let settings = store.settings(caller.org).await?;
    check_definition(&settings, &types, &target, &definition)?;
    store
        .put_type(
            caller.org,
            &PutType {
                name: target.clone(),
                definition,
                is_default: existing.is_some_and(|t| t.is_default),
                actor: caller.label.clone(),
            },
        )
        .await?;
    let change = ListChange {
        include: members.clone(),
        ..ListChange::default()
    };
    store
        .change_list(caller.org, &target, &request.name, &change)
        .await?;
    let run = queue_quietly(state, caller, vec![target.clone()]).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "segment_type": target,
            "segment": request.name,
            "frozen_from": source,
            "size": members.len(),
            "run": run,
        })),
    ))
}

/// Which rows of a one-off run to freeze, and where.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeRowsBody {
    /// A comparison's movement (`improved`, `declined`, `unchanged`, `new`,
    /// `lost`) or a period run's segment.
    of: String,
    /// A groups type (rules, not exclusive); created if it does not exist.
    target_type: String,
    /// The new group's name, not yet in the target type.
    name: String,
}

/// Saves the customers of a one-off run's rows with one movement (a
/// comparison: "who was lost?") or one segment (a period run) as a new
/// static group, as freezing a segment does.
#[utoipa::path(post, path = "/api/v1/runs/{id}/freeze", tag = "runs", security(("bearer" = [])), params(("id" = i64, Path)), request_body(content = FreezeRowsBody), responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn freeze_rows(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    json: Result<Json<FreezeRowsBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Editor)?;
    let request = body(json)?;
    let store = &*state.store;
    let run = store
        .run(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    if !run.kind.is_one_off() || run.status != RunStatus::Succeeded || run.rows_pruned {
        return Err(ApiError::Conflict(format!(
            "run {id} keeps no rows to freeze: freeze a segment of a type, or a succeeded period run or comparison whose rows are kept"
        )));
    }
    let mut members = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .run_rows(
                caller.org,
                &RunRowsQuery {
                    run: id,
                    key: Some(request.of.clone()),
                    after,
                    limit: PAGE,
                },
            )
            .await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map_or(after, |(row, _)| *row);
        members.extend(page.into_iter().map(|(_, r)| r.customer_id));
        if !full {
            break;
        }
    }
    let source = json!({"run": id, "of": request.of});
    let target = FreezeBody {
        target_type: request.target_type,
        name: request.name,
    };
    freeze_into(&state, &caller, target, members, source).await
}
