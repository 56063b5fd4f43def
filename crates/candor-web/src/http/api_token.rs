//! Who calls the REST API at `/api/v1`: a bearer token created in the back office, checked
//! against the route table's `Access::Token` rule (scope for the method, the creator's current
//! role for the permission), and handed to handlers as [`ApiCaller`].

use crate::http::error::{WebError, WebResult};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use candor_core::access::{allows, Permission, Role};
use candor_crypto::token_digest;
use candor_store::{ApiToken, LiveToken, TokenScope};

/// A request authenticated by an API token. Writes need a read-write token, and every request
/// needs a permission that the token's creator holds *now* (their role is read with the token on
/// each request), so a token never does more than the person who made it may.
#[derive(Clone)]
pub struct ApiCaller {
    token: ApiToken,
    creator_role: Role,
    ip: String,
    request: String,
}

impl ApiCaller {
    /// This token, as the actor of a use case.
    pub fn who(&self) -> candor_app::Actor {
        candor_app::Actor::Token {
            id: self.token.id,
            name: self.token.name.clone(),
            ip: self.ip.clone(),
        }
    }

    pub fn token_id(&self) -> i64 {
        self.token.id
    }

    /// Refuses with 403 (and records the refusal) when the token's creator may not do `p`.
    pub async fn require(&self, state: &AppState, p: Permission) -> WebResult<()> {
        if allows(self.creator_role, p) {
            return Ok(());
        }
        let details = serde_json::json!({"role": self.creator_role.as_str(), "needs": format!("{p:?}")});
        state
            .record(
                &self.who(),
                candor_app::Action::ApiDenied,
                self.request.clone(),
                details,
            )
            .await;
        Err(WebError::RoleForbids {
            role: self.creator_role,
            action: action_of(p),
        })
    }
}

/// What a permission lets a token do, for the refusal's message.
fn action_of(p: Permission) -> &'static str {
    match p {
        Permission::ViewContent => "read content",
        Permission::EditContent => "create or change content",
        Permission::PublishContent => "publish, unpublish or delete content",
        Permission::ManageStatus => "change the status page",
        _ => "do this",
    }
}

/// The access check of API routes (`Access::Token` in the route table): a valid token whose
/// scope allows the method and whose creator's current role has `needs`. The caller is handed to
/// the handler through the request's extensions.
pub async fn enforce(
    axum::extract::State((state, needs)): axum::extract::State<(AppState, Permission)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = req.into_parts();
    match ApiCaller::authenticate(&state, &parts, needs).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(axum::extract::Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

impl ApiCaller {
    async fn authenticate(state: &AppState, parts: &Parts, needs: Permission) -> Result<ApiCaller, WebError> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        let key = format!("api:{ip}");
        state
            .api_backoff()
            .check(&key)
            .await
            .map_err(|retry_after_secs| WebError::TooManyRequests { retry_after_secs })?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let found = match token {
            Some(t) if !t.is_empty() && t.len() < 200 => state.store().use_api_token(&token_digest(t)).await?,
            _ => None,
        };
        let request = format!("{} {}", parts.method, parts.uri.path());
        let Some(LiveToken {
            token: found,
            creator_role,
        }) = found.filter(|t| t.token.org_id == state.org())
        else {
            state.api_backoff().failure(&key).await;
            if token.is_some() {
                let actor = candor_app::Actor::Anonymous { ip: ip.clone() };
                state
                    .record(
                        &actor,
                        candor_app::Action::ApiAuthFailed,
                        request.clone(),
                        serde_json::json!({}),
                    )
                    .await;
            }
            return Err(WebError::Unauthorized);
        };
        state.api_backoff().success(&key).await;
        let writes = !matches!(parts.method, Method::GET | Method::HEAD);
        let actor = candor_app::Actor::Token {
            id: found.id,
            name: found.name.clone(),
            ip: ip.clone(),
        };
        if writes && found.scope != TokenScope::ReadWrite {
            let details = serde_json::json!({"scope": found.scope.as_str()});
            state
                .record(&actor, candor_app::Action::ApiDenied, request.clone(), details)
                .await;
            return Err(WebError::InsufficientScope);
        }
        let caller = ApiCaller {
            token: found,
            creator_role,
            ip,
            request,
        };
        caller.require(state, needs).await?;
        // Every use of a token is on the record, reads included.
        let details = serde_json::json!({"token": caller.token.name});
        state
            .record(&actor, candor_app::Action::ApiRequest, caller.request.clone(), details)
            .await;
        Ok(caller)
    }
}

/// The caller that [`enforce`] authenticated for this route.
impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, WebError> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or(WebError::Unauthorized)
    }
}
