//! Errors as HTTP answers: a status and a JSON body people can act on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use strata_domain::config::problem::Problem;
use strata_store::StoreError;

/// A failed request.
#[derive(Debug)]
pub enum ApiError {
    /// No valid token (401).
    Unauthorized,
    /// The token's role may not do this (403).
    Forbidden(&'static str),
    /// Nothing of the caller's organisation has this name (404).
    NotFound(String),
    /// The request conflicts with the stored state (409).
    Conflict(String),
    /// The request is malformed (400).
    BadRequest(String),
    /// The body is well-formed but wrong: every problem found (422).
    Invalid(Vec<Problem>),
    /// Rows of an import or batch that are wrong (422), up to 100.
    Rows(Vec<RowError>),
    /// The body is over the route's limit, in bytes (413).
    TooLarge(usize),
    /// The server failed (500); the details go to the log.
    Internal(String),
}

/// A problem with one row of an import or a JSON batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row: the line of a file (1 is the header) or the 0-based index
    /// of a JSON array.
    pub row: u64,
    /// The column or field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What was found and what was expected.
    pub message: String,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `bad_request`, `invalid`, `invalid_rows`, `too_large`, `internal`.
    error: &'static str,
    /// What went wrong, for people.
    message: String,
    /// Problems of a definition or settings, each `{path, code, message}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    problems: Option<Vec<Problem>>,
    /// Bad rows of an import or batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<Vec<RowError>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a valid token: Authorization: Bearer TOKEN".to_owned(),
            ),
            ApiError::Forbidden(role) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs the {role} role"),
            ),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            ApiError::Conflict(why) => (StatusCode::CONFLICT, "conflict", why.clone()),
            ApiError::BadRequest(why) => (StatusCode::BAD_REQUEST, "bad_request", why.clone()),
            ApiError::Invalid(problems) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{} problem(s); nothing was changed", problems.len()),
            ),
            ApiError::Rows(rows) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_rows",
                format!("{} bad row(s) listed; nothing was stored", rows.len()),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is over this route's limit of {limit} bytes"),
            ),
            ApiError::Internal(why) => {
                tracing::error!(error = %why, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed; see its log".to_owned(),
                )
            }
        };
        let (problems, rows) = match self {
            ApiError::Invalid(p) => (Some(p), None),
            ApiError::Rows(r) => (None, Some(r)),
            _ => (None, None),
        };
        let body = ErrorBody {
            error: code,
            message,
            problems,
            rows,
        };
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(why) => ApiError::Conflict(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
