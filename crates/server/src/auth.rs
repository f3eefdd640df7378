//! Who is asking: the bearer token, its organisation and its role.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use strata_store::{hash_token, OrgId, Role};

/// The caller of a request, from its `Authorization: Bearer` token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's organisation: every query of the request is scoped by it.
    pub org: OrgId,
    /// What the token may do.
    pub role: Role,
    /// The token's label: the actor history records.
    pub label: String,
    /// The token's id: what it has read is its own.
    pub token: i64,
}

impl Caller {
    /// Refuses the request unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(role.as_str()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let found = state.store.token_by_hash(&hash_token(token)).await?;
        let token = found.ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            org: token.org,
            role: token.role,
            label: token.label,
            token: token.id,
        })
    }
}
