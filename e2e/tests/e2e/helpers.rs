//! Forms and look-ups shared by the e2e tests.

use contracts::subjects;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::System;

pub fn zszo_form(document_id: &str) -> Value {
    json!({
        "form": "zszo.password-reset",
        "version": 1,
        "document_id": document_id,
        "submitted_at": "2026-11-23T09:15:00Z",
        "institution": { "rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie" },
        "requester": { "login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski" },
        "contact": { "rspo_email": "sp7@edu.krakow.pl", "director_mobile": "+48 600 100 200" },
        "account": { "login": "lzak" },
        "delivery": "electronic"
    })
}

pub async fn submit_zszo(system: &System, form: &Value) -> contracts::seod_status::SeodStatus {
    let id = form["document_id"].as_str().expect("a document id");
    system
        .submit(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            form.to_string().as_bytes(),
            id,
            id,
        )
        .await
}

pub async fn pool_of(system: &System, service: &str) -> PgPool {
    system.databases[service].pool().await
}

pub async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("a count")
}
