//! The extractors that enforce who may call an endpoint, from the bearer token of the request.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use dvc_domain::auth::Role;

use crate::auth::{Caller, Claims};
use crate::error::{ApiError, Msg};
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

/// People's routes: an integration client's token is refused with 403 (it acts for agencies
/// through `/integration` only).
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(|p| match p.role() {
            Role::Integration => Err(ApiError::forbidden()),
            _ => Ok(p),
        }))
    }
}

/// Any signed-in principal, people and integration clients alike (for what both may read, such as
/// a dossier's one-stop documents).
#[derive(Debug, Clone)]
pub struct PersonOrClient(pub Principal);

impl FromRequest for PersonOrClient {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).map(PersonOrClient))
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

/// A signed-in administrator whose account is still an active administrator's (checked on every
/// request, not trusted to the token's role claim); other principals get 403, a disabled or
/// demoted administrator's token 401.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = principal_of(req).and_then(|p| match p.role() {
            Role::Admin => Ok(p),
            _ => Err(ApiError::forbidden()),
        });
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let principal = principal?;
            let state = state.ok_or_else(ApiError::internal)?;
            let id = principal.id().to_string();
            let account = state.db(move |conn| Ok(dvc_persistence::accounts::find(conn, &id)?)).await?;
            match account {
                Some(a) if !a.disabled && a.role == Role::Admin.as_str() => Ok(Admin(principal)),
                _ => Err(ApiError::unauthorized(Msg::new(
                    "Tài khoản quản trị không còn hiệu lực",
                    "The administrator account is no longer active",
                ))),
            }
        })
    }
}

/// A signed-in officer or administrator.
#[derive(Debug, Clone)]
pub struct Staff(pub Principal);

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(req).and_then(
            |p| {
                if p.role().is_staff() {
                    Ok(Staff(p))
                } else {
                    Err(ApiError::forbidden())
                }
            },
        ))
    }
}
