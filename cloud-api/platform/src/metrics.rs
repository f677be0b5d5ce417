//! Prometheus metrics of the platform, rendered in the text format on `/metrics`.

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
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
        Self {
            registry,
            events_ingested,
            events_duplicate,
            events_rejected,
            access_decisions,
            devices_online,
            commands_sent,
        }
    }
}

impl Metrics {
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
