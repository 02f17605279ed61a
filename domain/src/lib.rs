//! Domain types and rules of dvc, the backend of an online public-service portal.
//!
//! Nothing here knows HTTP or SQL: the `api` crate translates requests into these types and the
//! `persistence` crate stores them.

pub mod auth;
pub mod calendar;
pub mod catalogue;
pub mod dossier;
pub mod error;
pub mod feedback;
pub mod fine;
pub mod identity;
pub mod index766;
pub mod notify;
pub mod page;
pub mod payment;
pub mod registration;
pub mod result;
pub mod search;
pub mod text;
pub mod time;
pub mod vietqr;
pub mod workflow;

pub use error::FieldError;

/// A closed set of values each written as a fixed code (`draft`, `on_time`, ...): what storage
/// and the wire need to read and write them, whatever the type.
pub trait CodeEnum: Copy + Sized + 'static {
    /// Every code, in declaration order.
    const CODES: &'static [&'static str];
    fn as_str(self) -> &'static str;
    fn parse(s: &str) -> Option<Self>;
}
