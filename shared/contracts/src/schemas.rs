//! Renders `proto-schemas/`: one JSON Schema per message and an AsyncAPI 3 document.

use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::catalog::{MessageSpec, messages};
use crate::streams;

/// File name (relative to `proto-schemas/`) → content.
pub fn render() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for spec in messages() {
        let mut generator = SchemaSettings::draft2020_12().into_generator();
        let schema = (spec.schema)(&mut generator);
        files.insert(
            format!("schemas/{}.json", spec.name),
            pretty(&serde_json::to_value(schema).expect("a schema is JSON")),
        );
    }
    for (name, schema) in http_bodies() {
        files.insert(
            format!("schemas/http/{name}.json"),
            pretty(&serde_json::to_value(schema).expect("a schema is JSON")),
        );
    }
    files.insert("asyncapi.json".to_owned(), pretty(&asyncapi()));
    files
}

/// Request bodies of the HTTP APIs that other parties call (not on the bus).
fn http_bodies() -> Vec<(&'static str, schemars::Schema)> {
    let generator = || SchemaSettings::draft2020_12().into_generator();
    vec![(
        "OperatorRequest",
        generator().into_root_schema_for::<crate::forms::OperatorRequest>(),
    )]
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON renders");
    s.push('\n');
    s
}

fn channel_id(spec: &MessageSpec) -> String {
    spec.name.to_owned()
}

fn asyncapi() -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut components = Map::new();
    for spec in messages() {
        let id = channel_id(&spec);
        let stream = streams::ALL
            .iter()
            .find(|s| s.subjects.iter().any(|p| subject_matches(p, spec.address)))
            .map(|s| s.name);
        let mut channel = json!({
            "address": spec.address,
            "summary": spec.summary,
            "messages": { spec.name: { "$ref": format!("#/components/messages/{}", spec.name) } },
        });
        if spec.address.contains("{document_id}") {
            channel["parameters"] = json!({ "document_id": {
                "description": "The SEOD document id (or, for a document without a usable one, the Nats-Msg-Id it was published with)"
            }});
        }
        if spec.address.contains("{service}") {
            channel["parameters"] = json!({ "service": {
                "description": "The refusing service, on its own stream",
                "enum": ["intake", "accounts", "delivery", "revocation", "audit"]
            }});
        }
        if spec.address.contains("{step}") {
            let steps: Vec<String> = crate::events::AccountStep::ALL
                .iter()
                .map(|s| s.as_str().replace('_', "-"))
                .collect();
            channel["parameters"] = json!({ "step": {
                "description": "The step of the account's history (`step` in the body, with `-` for `_`)",
                "enum": steps
            }});
        }
        if spec.address.contains("{reply}") {
            channel["parameters"] =
                json!({ "reply": { "description": "The requester's reply inbox" } });
        }
        // A parameter in the first token names the stream itself (each service's own).
        if let Some(stream) = stream.filter(|_| !spec.address.starts_with('{')) {
            channel["x-jetstream-stream"] = json!(stream);
        }
        channels.insert(id.clone(), channel);
        components.insert(
            spec.name.to_owned(),
            json!({
                "name": spec.name,
                "contentType": "application/json",
                "summary": spec.summary,
                "payload": { "$ref": format!("./schemas/{}.json", spec.name) },
            }),
        );
        for (action, parties) in [("send", spec.publishers), ("receive", spec.consumers)] {
            for party in parties {
                operations.insert(
                    format!("{party}.{action}.{id}"),
                    json!({
                        "action": action,
                        "channel": { "$ref": format!("#/channels/{id}") },
                        "summary": format!("{party} {}s {}", if action == "send" { "publishe" } else { "consume" }, spec.name),
                        "tags": [{ "name": party }],
                    }),
                );
            }
        }
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Klucznik",
            "version": "1.0.0",
            "description": "Subjects of the Klucznik bus (NATS JetStream). Every JetStream publish carries a Nats-Msg-Id for de-duplication and a W3C traceparent header. The bus is authenticated: each party connects with its own nkey (a user nkey seed given by the department's operators) and may publish and subscribe only as contracts::permissions says; its replies (JetStream acknowledgements, request answers) must use the inbox prefix `_INBOX_<party>` (SEOD: `_INBOX_seod`), the only reply subjects it may read. SEOD may publish `seod.forms.>` and read `seod.status.>` (the SEOD_STATUS stream through its own consumers).",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": { "host": "127.0.0.1:4223", "protocol": "nats", "description": "make run", "security": [{ "$ref": "#/components/securitySchemes/nkey" }] },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": components,
            "securitySchemes": {
                "nkey": { "type": "userPassword", "description": "NATS nkey authentication: the client signs the server's nonce with its user nkey seed." }
            }
        },
    })
}

/// Whether a NATS subject pattern (with `*` and `>`) covers a concrete or templated address.
fn subject_matches(pattern: &str, address: &str) -> bool {
    let mut p = pattern.split('.');
    let mut a = address.split('.');
    loop {
        match (p.next(), a.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(x), Some(y)) if x == y || y.starts_with('{') => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_patterns_match_like_nats() {
        assert!(subject_matches(
            "seod.status.>",
            "seod.status.{document_id}"
        ));
        assert!(subject_matches("intake.>", "intake.case.registered"));
        assert!(!subject_matches("intake.>", "intake"));
        assert!(!subject_matches("accounts.>", "intake.case.registered"));
    }

    #[test]
    fn every_message_has_a_schema_and_a_channel() {
        let files = render();
        for spec in messages() {
            assert!(files.contains_key(&format!("schemas/{}.json", spec.name)));
        }
        let doc: Value = serde_json::from_str(&files["asyncapi.json"]).unwrap();
        assert_eq!(doc["asyncapi"], "3.0.0");
        assert_eq!(doc["channels"].as_object().unwrap().len(), messages().len());
    }
}
