//! What the organisation is told when runs end: listed newest first, each
//! token marking its own read.

use super::data::{decode_id_cursor, encode_cursor, page_limit};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use strata_store::{Notification, NotificationQuery};

/// Notifications per page by default, and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// The query of a page of notifications.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only those the caller's token has not marked read.
    #[serde(default)]
    unread: bool,
    /// Where the previous page ended (its `next_cursor`).
    cursor: Option<String>,
    /// At most this many (50 by default, 500 at most).
    limit: Option<u32>,
}

fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id,
        "at": n.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "run_id": n.run_id,
        "status": n.status.as_str(),
        "read": n.read,
        "message": n.body,
    })
}

/// The organisation's notifications, newest first, with whether the
/// caller's token has read each.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])), params(ListQuery), responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let before = query.cursor.as_deref().map(decode_id_cursor).transpose()?;
    let mut found = state
        .store
        .notifications(
            caller.org,
            &NotificationQuery {
                token: caller.token,
                unread_only: query.unread,
                before,
                limit: limit + 1,
            },
        )
        .await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next_cursor = more
        .then(|| found.last().map(|n| encode_cursor(&n.id.to_string())))
        .flatten();
    Ok(Json(json!({
        "notifications": found.iter().map(notification_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// Marks a notification read for the caller's token.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    if !state.store.mark_read(caller.org, id, caller.token).await? {
        return Err(ApiError::NotFound(format!("no notification {id}")));
    }
    Ok(Json(json!({"id": id, "read": true})))
}
