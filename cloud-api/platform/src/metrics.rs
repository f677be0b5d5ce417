//! Prometheus metrics of the platform, rendered in the text format on `/metrics`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

use crate::state::AppState;

/// The labels of `http_request_duration_seconds` (seed 002): `route` is the matched route
/// template (`/sakip/api/v1/opd/{id}`), never the raw path, so ids cannot blow up the series;
/// a request no route matched counts under `unmatched`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Buckets from 1 ms to about 16 s.
#[derive(Clone, Copy, Debug)]
pub struct DurationBuckets;

impl MetricConstructor<Histogram> for DurationBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.001, 2.0, 15))
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PolicyLabel {
    pub policy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: String,
}

/// Every metric the platform exports. Cloning shares the same counters.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Unique events stored.
    pub events_ingested: Counter,
    /// Re-deliveries recognised and dropped.
    pub events_duplicate: Counter,
    pub events_rejected: Family<ReasonLabel, Counter>,
    pub access_decisions: Family<ResultLabel, Counter>,
    pub devices_online: Gauge,
    pub commands_sent: Counter,
    /// Request durations by method, route template and status.
    pub http_request_duration: Family<HttpLabels, Histogram, DurationBuckets>,
    /// Records the retention job removed or pseudonymised, by policy.
    pub retention_removed_by_policy: Family<PolicyLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let events_ingested = Counter::default();
        let events_duplicate = Counter::default();
        let events_rejected = Family::<ReasonLabel, Counter>::default();
        let access_decisions = Family::<ResultLabel, Counter>::default();
        let devices_online = Gauge::default();
        let commands_sent = Counter::default();
        let http_request_duration = Family::new_with_constructor(DurationBuckets);
        let retention_removed_by_policy = Family::<PolicyLabel, Counter>::default();
        registry.register(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds",
            http_request_duration.clone(),
        );
        registry.register(
            "gerbang_events_ingested",
            "Unique device events stored",
            events_ingested.clone(),
        );
        registry.register(
            "gerbang_events_duplicate",
            "Re-delivered events recognised and dropped",
            events_duplicate.clone(),
        );
        registry.register(
            "gerbang_events_rejected",
            "Frames refused, by reason",
            events_rejected.clone(),
        );
        registry.register(
            "gerbang_access_decisions",
            "Access decisions stored, by result",
            access_decisions.clone(),
        );
        registry.register(
            "gerbang_devices_online",
            "Devices whose last state says online",
            devices_online.clone(),
        );
        registry.register(
            "gerbang_commands_sent",
            "Commands published to devices",
            commands_sent.clone(),
        );
        registry.register(
            "gerbang_retention_removed",
            "Records the retention job removed or pseudonymised, by policy",
            retention_removed_by_policy.clone(),
        );
        Self {
            registry,
            events_ingested,
            events_duplicate,
            events_rejected,
            access_decisions,
            devices_online,
            commands_sent,
            http_request_duration,
            retention_removed_by_policy,
        }
    }
}

impl Metrics {
    /// The counter of records the retention policy `policy` removed.
    pub fn retention_removed(&self, policy: &str) -> Counter {
        self.retention_removed_by_policy
            .get_or_create(&PolicyLabel {
                policy: policy.to_owned(),
            })
            .clone()
    }

    pub fn rejected(&self, reason: &str) {
        self.events_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn access_decision(&self, result: &str) {
        self.access_decisions
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The whole registry in the Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Middleware: observes every request's duration in `http_request_duration_seconds`. Layered
/// with `Router::layer` so that the matched route template is in the request's extensions.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .http_request_duration
        .get_or_create(&HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}
