//! The extractors that enforce who may call an endpoint, from the bearer token of the request.

use std::future::{ready, Ready};

use futures_util::future::LocalBoxFuture;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use dvc_domain::auth::Role;

use crate::auth::{Caller, Claims};
use crate::error::{ApiError, Msg};
use crate::sessions::{self, Ask};
use crate::state::AppState;

/// Any signed-in principal.
#[derive(Debug, Clone)]
pub struct Principal(pub Claims);

impl Principal {
    pub fn id(&self) -> &str {
        &self.0.sub
    }

    pub fn role(&self) -> Role {
        self.0.role
    }

    /// The caller, as services take it.
    pub fn caller(&self) -> Caller {
        Caller::from(&self.0)
    }
}

fn principal_of(req: &HttpRequest) -> Result<Principal, ApiError> {
    let missing = || {
        ApiError::unauthorized(Msg::new(
            "Cần đăng nhập (Authorization: Bearer <token>)",
            "Sign-in required (Authorization: Bearer <token>)",
        ))
    };
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(ApiError::internal)?;
    state.keys.verify(token).map(Principal)
}

/// The principal of a request whose token this role may use, its session not yet checked.
fn allowed_principal(req: &HttpRequest, allowed: fn(Role) -> bool) -> Result<Principal, ApiError> {
    principal_of(req).and_then(|p| if allowed(p.role()) { Ok(p) } else { Err(ApiError::forbidden()) })
}

/// The principal if its session still holds; integration clients are checked by their routes.
pub async fn check(state: &AppState, principal: Principal) -> Result<Principal, ApiError> {
    if principal.role() == Role::Integration {
        return Ok(principal);
    }
    let ask = Ask::of(&principal.0)?;
    if state.sessions.run(&state.database, ask).await? {
        Ok(principal)
    } else {
        Err(sessions::ended())
    }
}

/// The principal of a request once its session is checked (see `sessions.rs`), or why not.
fn checked(req: &HttpRequest, allowed: fn(Role) -> bool) -> LocalBoxFuture<'static, Result<Principal, ApiError>> {
    let principal = allowed_principal(req, allowed);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let principal = principal?;
        let state = state.ok_or_else(ApiError::internal)?;
        check(&state, principal).await
    })
}

/// A person's valid token whose session the batch serving the request checks (see
/// `sessions::gate`), as that batch's first statement, instead of a round before it: the route
/// may shape its request from who the token names, but the principal comes with the question
/// the batch must answer, and nothing is served or written unless the session holds.
#[derive(Debug, Clone)]
pub struct Unchecked<T> {
    claimed: T,
    ask: Ask,
}

impl<T> Unchecked<T> {
    /// The principal the token names, and its session's question for the batch.
    pub fn into_parts(self) -> (T, Ask) {
        (self.claimed, self.ask)
    }
}

fn unchecked<T>(
    req: &HttpRequest,
    allowed: fn(Role) -> bool,
    wrap: fn(Principal) -> T,
) -> Result<Unchecked<T>, ApiError> {
    let principal = allowed_principal(req, allowed)?;
    let ask = Ask::of(&principal.0)?;
    Ok(Unchecked { claimed: wrap(principal), ask })
}

/// As [`Principal`], its session checked by the request's batch.
impl FromRequest for Unchecked<Principal> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(unchecked(req, |role| role != Role::Integration, |p| p))
    }
}

/// As [`Staff`], its session checked by the request's batch.
impl FromRequest for Unchecked<Staff> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(unchecked(req, Role::is_staff, Staff))
    }
}

/// People's routes: an integration client's token is refused with 403 (it acts for agencies
/// through `/integration` only). The session is checked on every request.
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        checked(req, |role| role != Role::Integration)
    }
}

/// Any signed-in principal, people and integration clients alike (for what both may read, such as
/// a dossier's one-stop documents).
#[derive(Debug, Clone)]
pub struct PersonOrClient(pub Principal);

impl FromRequest for PersonOrClient {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = checked(req, |_| true);
        Box::pin(async move { checked.await.map(PersonOrClient) })
    }
}

/// The token of an integration client (`/integration` routes); people's tokens get 403.
#[derive(Debug, Clone)]
pub struct IntegrationToken(pub Principal);

impl FromRequest for IntegrationToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(|p| match p.role() {
            Role::Integration => Ok(IntegrationToken(p)),
            _ => Err(ApiError::forbidden()),
        }))
    }
}

/// A signed-in administrator whose account is still an active administrator's: the session check
/// compares the token's role with the account's on every request, so a disabled or demoted
/// administrator's token gets 401; other principals get 403.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = checked(req, |role| role == Role::Admin);
        Box::pin(async move { checked.await.map(Admin) })
    }
}

/// A signed-in officer or administrator, checked like any person's session.
#[derive(Debug, Clone)]
pub struct Staff(pub Principal);

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = checked(req, Role::is_staff);
        Box::pin(async move { checked.await.map(Staff) })
    }
}
