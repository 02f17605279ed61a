//! Prometheus metrics: request counts and latency by route and status, where reads ran, and how
//! many requests each batch served.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};

/// The process's metric registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    reads: IntCounterVec,
    batches: HistogramVec,
    messages: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("dvc_http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new("dvc_http_request_duration_seconds", "HTTP request latency by method and route")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )
        .expect("static metric definition");
        let reads = IntCounterVec::new(
            Opts::new("dvc_db_reads_total", "Read-only database work by where it ran: replica or primary"),
            &["target"],
        )
        .expect("static metric definition");
        let batches = HistogramVec::new(
            HistogramOpts::new("dvc_batch_requests", "Requests served together by one batch, by kind of request")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
            &["kind"],
        )
        .expect("static metric definition");
        let messages = IntCounterVec::new(
            Opts::new(
                "dvc_messages_total",
                "Message attempts by channel, purpose and outcome (delivered, accepted, temporary_failure, \
                 permanent_failure), and messages no channel delivered (undelivered)",
            ),
            &["channel", "purpose", "outcome"],
        )
        .expect("static metric definition");
        registry.register(Box::new(messages.clone())).expect("register once");
        registry.register(Box::new(batches.clone())).expect("register once");
        registry.register(Box::new(reads.clone())).expect("register once");
        registry.register(Box::new(requests.clone())).expect("register once");
        registry.register(Box::new(latency.clone())).expect("register once");
        Self { registry, requests, latency, reads, batches, messages }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// Counts one piece of read-only work done on a replica or on the primary.
    pub fn read_on(&self, target: &str) {
        self.reads.with_label_values(&[target]).inc();
    }

    /// Records the size of one batch of requests (see `batch.rs`).
    pub fn batch(&self, kind: &str, requests: usize) {
        self.batches.with_label_values(&[kind]).observe(requests as f64);
    }

    /// Counts one message attempt's outcome, or a message given up on.
    pub fn message(&self, channel: &str, purpose: &str, outcome: &str) {
        self.messages.with_label_values(&[channel, purpose, outcome]).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
