//! Black-box tests of dvc: every scenario runs against a real server, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod support;

mod abuse;
mod accounts;
mod admin_catalogue;
mod auth;
mod batches;
mod bundles;
mod calendar;
mod callbacks;
mod catalogue;
mod conditional;
mod crash;
mod docs_browser;
mod documents;
mod dossiers;
mod feedback;
mod files;
mod fines;
mod index766;
mod integration;
mod lists;
mod messages;
mod migrations;
mod newcomer;
mod oidc;
mod openapi;
mod operations;
mod outage;
mod payments;
mod search;
mod sessions;
mod slow;
mod statistics;
mod synthetic;
mod tenancy;
mod verify;
mod walkthrough;
mod webhooks;
