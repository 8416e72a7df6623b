//! Every service serves its committed OpenAPI document to anyone, and asks for a token
//! exactly where that document says it does.

use test_support::system::SERVICES;
use test_support::{System, SystemOptions};

/// A path of the document with an example for each of its parameters.
fn example(path: &str) -> String {
    path.replace("{procedure}", "ZSZO-05")
        .replace("{year}", "2026")
        .replace("{sequence}", "000001")
        .replace("{id}", "01900000-0000-7000-8000-000000000000")
        .replace("{login}", "jkowalski")
        .replace("{database}", "LBD-KRK-1")
        .replace("{authorisation}", "UPW-2025-0001")
        .replace("{request}", "01900000-0000-7000-8000-000000000000")
}

#[tokio::test]
async fn every_service_serves_its_committed_openapi_document_and_asks_for_a_token_where_it_says() {
    let system = System::start(SystemOptions::default()).await;
    let http = reqwest::Client::new();
    for name in SERVICES {
        let base = system.url(name);
        let response = http
            .get(format!("{base}/api/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let served = response.text().await.unwrap();
        let committed = std::fs::read_to_string(kit::openapi::committed_path(name)).unwrap();
        assert!(
            served == committed,
            "{name} serves another document than proto-schemas/openapi/{name}.json"
        );
        let document: serde_json::Value = serde_json::from_str(&served).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            assert!(!example(path).contains('{'), "{name} {path}: no example");
            for (method, operation) in item.as_object().unwrap() {
                let secured = operation["security"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty());
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let status = http
                    .request(method.clone(), format!("{base}{}", example(path)))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                let what = format!("{name} {method} {path} without a token answered {status}");
                if secured {
                    assert_eq!(status, 401, "{what}");
                } else {
                    assert_ne!(status, 401, "{what}");
                }
                assert!(
                    operation["responses"][status.to_string()].is_object(),
                    "{what}, which its document does not describe"
                );
            }
        }
    }
}
