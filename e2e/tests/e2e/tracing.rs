//! One trace per action. The form's: intake's and audit's spans share its trace id. The
//! realisation's: the administrator's request is a server span, and its trace crosses
//! intake, accounts and delivery down to the e-mail and the SMS (the dispatch continues the
//! trace of the credentials it sends, however much later); it links to the form's trace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{submit_zszo, take_and_realise, zszo_form};

/// A span as the collector got it.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    trace_id: String,
    name: String,
    kind: i64,
    /// The trace ids its links point to.
    links: Vec<String>,
}

type Spans = Arc<Mutex<Vec<Span>>>;

/// A minimal OTLP/HTTP (JSON) receiver.
async fn otlp_receiver() -> (String, Spans) {
    let spans: Spans = Arc::default();
    async fn receive(State(spans): State<Spans>, Json(body): Json<Value>) -> Json<Value> {
        let mut spans = spans.lock().unwrap();
        for resource_spans in body["resourceSpans"].as_array().into_iter().flatten() {
            let service = resource_spans["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or("?")
                .to_owned();
            for scope in resource_spans["scopeSpans"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push(Span {
                        service: service.clone(),
                        trace_id: span["traceId"].as_str().unwrap_or_default().to_owned(),
                        name: span["name"].as_str().unwrap_or_default().to_owned(),
                        kind: span["kind"].as_i64().unwrap_or_default(),
                        links: span["links"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|l| l["traceId"].as_str().map(str::to_owned))
                            .collect(),
                    });
                }
            }
        }
        Json(serde_json::json!({}))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(Arc::clone(&spans));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), spans)
}

/// OTLP's `SPAN_KIND_SERVER`.
const SERVER: i64 = 2;
/// OTLP's `SPAN_KIND_CLIENT`.
const CLIENT: i64 = 3;

#[tokio::test]
async fn the_form_and_its_realisation_are_a_trace_each_the_second_linked_to_the_first() {
    let (endpoint, spans) = otlp_receiver().await;
    let system = System::start(SystemOptions {
        otlp_endpoint: Some(endpoint),
        ..Default::default()
    })
    .await;
    let status = submit_zszo(&system, &zszo_form("SEOD-TRACE")).await;
    let case = status.case_number.unwrap();
    let escaped = case.replace('/', "%2F");

    let recorded = eventually(
        Duration::from_secs(15),
        "audit to record the case",
        || async {
            system
                .audit_events(&format!(
                    "case_number={escaped}&event_type=intake.case.registered"
                ))
                .await
                .into_iter()
                .next()
        },
    )
    .await;
    let form_trace = recorded["trace_id"]
        .as_str()
        .expect("audit keeps the trace id")
        .to_owned();
    eventually(
        Duration::from_secs(20),
        "spans of intake and audit in the form's trace",
        || async {
            let spans = spans.lock().unwrap();
            let in_trace = |service: &str| {
                spans
                    .iter()
                    .any(|s| s.trace_id == form_trace && s.service == service)
            };
            (in_trace("intake") && in_trace("audit")).then_some(())
        },
    )
    .await;

    take_and_realise(&system, &case, "electronic").await;
    let realisation = eventually(
        Duration::from_secs(20),
        "the realisation's server span",
        || async {
            spans
                .lock()
                .unwrap()
                .iter()
                .find(|s| {
                    s.service == "intake"
                        && s.kind == SERVER
                        && s.name == "POST /api/cases/{procedure}/{year}/{sequence}/realise"
                })
                .cloned()
        },
    )
    .await;
    assert_ne!(realisation.trace_id, form_trace, "a trace of its own");
    eventually(
        Duration::from_secs(60),
        "the realisation's trace down to the e-mail and the SMS",
        || async {
            let spans = spans.lock().unwrap();
            let trace: Vec<&Span> = spans
                .iter()
                .filter(|s| s.trace_id == realisation.trace_id)
                .collect();
            let has = |service: &str, name: &str, kind: Option<i64>| {
                trace.iter().any(|s| {
                    s.service == service && s.name == name && kind.is_none_or(|k| s.kind == k)
                })
            };
            let crosses = ["intake", "accounts", "delivery", "audit"]
                .iter()
                .all(|service| trace.iter().any(|s| s.service == *service));
            (crosses
                && has("delivery", "dispatch", None)
                && has("delivery", "send e-mail", Some(CLIENT))
                && has("delivery", "send SMS", Some(CLIENT)))
            .then_some(())
        },
    )
    .await;
    let linked = spans
        .lock()
        .unwrap()
        .iter()
        .any(|s| s.trace_id == realisation.trace_id && s.links.contains(&form_trace));
    assert!(linked, "the realisation links to the form's trace");

    // Every request is a server span: the sign-in the administrator made, too.
    assert!(
        spans.lock().unwrap().iter().any(|s| s.service == "accounts"
            && s.kind == SERVER
            && s.name == "POST /api/auth/staff-login"),
        "accounts' sign-in is a server span"
    );
}
