//! One trace per request: spans of intake and audit for one form share a trace id.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use test_support::{System, SystemOptions, eventually};

use crate::helpers::{submit_zszo, zszo_form};

/// trace id → services that sent spans in it.
type Traces = Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>;

/// A minimal OTLP/HTTP (JSON) receiver.
async fn otlp_receiver() -> (String, Traces) {
    let traces: Traces = Arc::default();
    async fn receive(State(traces): State<Traces>, Json(body): Json<Value>) -> Json<Value> {
        let mut traces = traces.lock().unwrap();
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
                    if let Some(trace_id) = span["traceId"].as_str() {
                        traces
                            .entry(trace_id.to_owned())
                            .or_default()
                            .insert(service.clone());
                    }
                }
            }
        }
        Json(serde_json::json!({}))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(Arc::clone(&traces));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), traces)
}

#[tokio::test]
async fn one_submitted_form_yields_spans_from_intake_and_audit_in_one_trace() {
    let (endpoint, traces) = otlp_receiver().await;
    let system = System::start(SystemOptions {
        otlp_endpoint: Some(endpoint),
        ..Default::default()
    })
    .await;
    let status = submit_zszo(&system, &zszo_form("SEOD-TRACE")).await;
    let case = status.case_number.unwrap().replace('/', "%2F");

    let recorded = eventually(
        Duration::from_secs(15),
        "audit to record the case",
        || async {
            system
                .audit_events(&format!(
                    "case_number={case}&event_type=intake.case.registered"
                ))
                .await
                .into_iter()
                .next()
        },
    )
    .await;
    let trace_id = recorded["trace_id"]
        .as_str()
        .expect("audit keeps the trace id")
        .to_owned();

    eventually(
        Duration::from_secs(20),
        "spans of intake and audit in the form's trace",
        || async {
            let traces = traces.lock().unwrap();
            let services = traces.get(&trace_id)?;
            (services.contains("intake") && services.contains("audit")).then_some(())
        },
    )
    .await;
}
