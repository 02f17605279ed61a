//! The dvc HTTP API and command line.

pub mod app;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod catalogue;
pub mod certificates;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dossier;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod integration;
pub mod metrics;
pub mod notifier;
pub mod openapi;
pub mod otp;
pub mod payment;
pub mod ratelimit;
pub mod routes;
pub mod seed;
pub mod state;
pub mod storage;
pub mod upload;
