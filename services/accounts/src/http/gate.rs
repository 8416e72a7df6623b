//! What every sign-in (staff or portal) goes through before and after its password is
//! checked: field lengths, the throttle (`domain::sign_in`), a bounded number of argon2
//! hashes at once, and the failure told to audit with an unknown login kept only hashed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contracts::events::LoginFailed;
use contracts::{Actor, Envelope};
use kit::problem::Problem;
use tokio::sync::Semaphore;

use super::{AppState, problem};
use crate::domain::sign_in::{self, PER_ACCOUNT, PER_ADDRESS};
use crate::store::throttle;

/// The sign-in gate's settings and its bound on concurrent hashes.
pub struct Gate {
    hashes: Semaphore,
    /// How long a sign-in waits for a free hashing slot before it is told to come back.
    wait: Duration,
    trusted_proxies: Vec<sign_in::TrustedNetwork>,
    /// Keys the hash an unknown login is kept as.
    login_hash_key: [u8; 32],
}

impl Gate {
    pub fn new(
        max_concurrent_hashes: usize,
        wait: Duration,
        trusted_proxies: Vec<sign_in::TrustedNetwork>,
        login_hash_key: [u8; 32],
    ) -> Self {
        Self {
            hashes: Semaphore::new(max_concurrent_hashes.max(1)),
            wait,
            trusted_proxies,
            login_hash_key,
        }
    }
}

/// A sign-in let through the gate: who asked, from where, under which throttle keys.
pub struct Attempt {
    /// The login as it may be recorded: the account's, or a keyed hash of what was typed.
    pub recorded_login: String,
    pub address: String,
    account_key: String,
    address_key: String,
}

pub(crate) fn retry_after(response: Response, wait: Duration) -> Response {
    let mut response = response;
    let seconds = wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A field longer than its limit: refused naming it, before anything else happens.
pub fn too_long(field: &sign_in::FieldTooLong) -> Response {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-request",
        "Niepoprawne żądanie",
    )
    .detail(format!("Pole `{}`: {}", field.field, field.message))
    .into_response()
}

/// Throttles the attempt (per account and per address); the answer to give when it must wait.
pub async fn admit(
    state: &AppState,
    login: &str,
    known: bool,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Attempt, Response> {
    let gate = &state.gate;
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let address = sign_in::client_address(peer.ip(), forwarded, &gate.trusted_proxies);
    let attempt = Attempt {
        recorded_login: if known {
            login.to_owned()
        } else {
            sign_in::unknown_login(login, &gate.login_hash_key)
        },
        account_key: sign_in::account_key(login, known, &gate.login_hash_key),
        address_key: format!("address:{address}"),
        address,
    };
    let now = state.clock.now();
    for (key, rule) in [
        (&attempt.account_key, &PER_ACCOUNT),
        (&attempt.address_key, &PER_ADDRESS),
    ] {
        match throttle::throttle_claim(&state.pool, key, rule, now).await {
            Ok(Ok(())) => {}
            Ok(Err(wait)) => {
                let seconds = wait.as_secs().max(1);
                return Err(retry_after(
                    Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too-many-attempts",
                        "Zbyt wiele prób",
                    )
                    .detail(format!(
                        "Zbyt wiele prób logowania; spróbuj ponownie za {seconds} s."
                    ))
                    .into_response(),
                    wait,
                ));
            }
            Err(error) => return Err(problem(error)),
        }
    }
    Ok(attempt)
}

/// Checks a password against a stored hash (or a dummy one, so an unknown login costs as
/// much), holding one of the bounded hashing slots; a full house is told to come back.
pub async fn verify_password(
    state: &AppState,
    password: &str,
    stored: Option<String>,
) -> Result<bool, Response> {
    let gate = Arc::clone(&state.gate);
    let Ok(Ok(permit)) = tokio::time::timeout(gate.wait, gate.hashes.acquire()).await else {
        return Err(retry_after(
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Serwer jest chwilowo przeciążony",
            )
            .detail("Zbyt wiele logowań naraz; spróbuj ponownie za chwilę.")
            .into_response(),
            Duration::from_secs(1),
        ));
    };
    let ok = super::verify_password(state, password, stored).await;
    drop(permit);
    Ok(ok)
}

/// The attempt succeeded: the account's streak ends.
pub async fn succeeded(state: &AppState, attempt: &Attempt) -> Result<(), Response> {
    throttle::throttle_succeeded(&state.pool, &attempt.account_key, &attempt.address_key)
        .await
        .map_err(problem)
}

/// The attempt failed: told to audit (which opens an incident past a threshold).
pub async fn failed(state: &AppState, attempt: &Attempt, portal: bool) -> Result<(), Response> {
    let now = state.clock.now();
    let event = Envelope::new(
        Actor::system(crate::SERVICE),
        now,
        LoginFailed {
            login: attempt.recorded_login.clone(),
            address: attempt.address.clone(),
            portal,
        },
    );
    let result = async {
        let mut tx = state.pool.begin().await?;
        kit::outbox::outbox_insert_event(&mut tx, &event).await?;
        tx.commit().await
    }
    .await;
    result.map_err(problem)
}
