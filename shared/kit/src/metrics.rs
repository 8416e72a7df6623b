//! What an operator watches on every service, as Prometheus text at `/metrics`: HTTP
//! requests by route and status, messages dead-lettered by consumer, and, read when scraped,
//! the outbox's backlog and each consumer's messages not yet handled (its lag).

use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use contracts::streams::ConsumerSpec;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sqlx::PgPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route's template (`/api/cases/{procedure}/{year}/{sequence}`), never the path
    /// itself: no case number, login or id becomes a label.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// What was being done, e.g. `delivery_dispatch`.
    pub operation: String,
    /// Why it failed, a fixed word per cause (`smtp_unavailable`, `sms_refused`, …).
    pub cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    dead_letters: Family<ConsumerLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    outbox_backlog: Gauge,
    consumer_pending: Family<ConsumerLabels, Gauge>,
    consumers: Mutex<Vec<ConsumerSpec>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("klucznik");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let dead_letters = Family::<ConsumerLabels, Counter>::default();
        registry.register(
            "dead_letters",
            "Messages given up on and kept on the dead-letter subject, by consumer",
            dead_letters.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "failures",
            "Work with the outside world that failed (a try of a delivery, …), by operation and cause",
            failures.clone(),
        );
        let outbox_backlog = Gauge::default();
        registry.register(
            "outbox_backlog",
            "Events committed but not yet published to the bus",
            outbox_backlog.clone(),
        );
        let consumer_pending = Family::<ConsumerLabels, Gauge>::default();
        registry.register(
            "consumer_pending",
            "Messages of a consumer not yet handled (waiting or unacknowledged)",
            consumer_pending.clone(),
        );
        Self {
            registry,
            requests,
            dead_letters,
            failures,
            outbox_backlog,
            consumer_pending,
            consumers: Mutex::new(Vec::new()),
        }
    }

    pub fn request(&self, method: &str, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
    }

    pub fn dead_lettered(&self, consumer: &str) {
        self.dead_letters
            .get_or_create(&ConsumerLabels {
                consumer: consumer.to_owned(),
            })
            .inc();
    }

    pub fn failed(&self, operation: &str, cause: &str) {
        self.failures
            .get_or_create(&FailureLabels {
                operation: operation.to_owned(),
                cause: cause.to_owned(),
            })
            .inc();
    }

    /// A consumer whose lag is read at each scrape.
    pub fn watch(&self, spec: ConsumerSpec) {
        let mut consumers = self.consumers.lock().unwrap_or_else(|e| e.into_inner());
        if !consumers.iter().any(|c| c.durable == spec.durable) {
            consumers.push(spec);
        }
        // Shown from the start, not only once something went wrong.
        let _shown = self.dead_letters.get_or_create(&ConsumerLabels {
            consumer: spec.durable.to_owned(),
        });
    }

    /// The text a scrape gets, with the backlog and lags read now. What cannot be read is
    /// left at its last value (and logged): a scrape never fails for it.
    pub async fn render(&self, pool: &PgPool, js: &jetstream::Context) -> String {
        match sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM kit_outbox WHERE published_at IS NULL",
        )
        .fetch_one(pool)
        .await
        {
            Ok(backlog) => {
                self.outbox_backlog.set(backlog);
            }
            Err(error) => tracing::warn!(%error, "the outbox backlog could not be read"),
        }
        let consumers = self
            .consumers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for spec in consumers {
            let info = async {
                let mut consumer: jetstream::consumer::PullConsumer = js
                    .get_consumer_from_stream(spec.durable, spec.stream.name)
                    .await
                    .map_err(|e| e.to_string())?;
                consumer
                    .info()
                    .await
                    .map(|i| i.to_owned())
                    .map_err(|e| e.to_string())
            }
            .await;
            match info {
                Ok(info) => {
                    let pending = info.num_pending as i64 + info.num_ack_pending as i64;
                    self.consumer_pending
                        .get_or_create(&ConsumerLabels {
                            consumer: spec.durable.to_owned(),
                        })
                        .set(pending);
                }
                Err(error) => {
                    tracing::warn!(consumer = spec.durable, %error, "a consumer's lag could not be read")
                }
            }
        }
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%error, "the metrics could not be encoded");
        }
        out
    }
}

/// Counts every answered request by its route's template.
pub async fn count_requests(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.request(&method, &route, response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_labelled_by_route_and_consumer() {
        let metrics = Metrics::new();
        metrics.request("GET", "/api/cases/{procedure}/{year}/{sequence}", 200);
        metrics.request("GET", "/api/cases/{procedure}/{year}/{sequence}", 200);
        metrics.dead_lettered("intake-forms");
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &metrics.registry).unwrap();
        assert!(
            out.contains(
                "klucznik_http_requests_total{method=\"GET\",route=\"/api/cases/{procedure}/{year}/{sequence}\",status=\"200\"} 2"
            ),
            "{out}"
        );
        assert!(
            out.contains("klucznik_dead_letters_total{consumer=\"intake-forms\"} 1"),
            "{out}"
        );
    }
}
