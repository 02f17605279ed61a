//! Domain types and rules of dvc, the backend of an online public-service portal.
//!
//! Nothing here knows HTTP or SQL: the `api` crate translates requests into these types and the
//! `persistence` crate stores them.

pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod page;
pub mod payment;
pub mod registration;
pub mod text;
pub mod vietqr;
pub mod workflow;

pub use error::FieldError;
