//! Every refusal (401 or 403) of a request that would change something is recorded: the
//! service announces it (`<service>.access.refused`, through its outbox) and audit keeps it,
//! with who asked (when the token says so), what and from where. Reading is not recorded:
//! an auditor's question is not an attempt to act.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use contracts::events::AccessRefused;
use contracts::{Actor, Envelope};
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::auth::{Audience, TokenVerifier};

/// A response whose refusal its handler records itself (a failed sign-in is already
/// `accounts.login.failed`): the layer leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct AlreadyRecorded;

#[derive(Clone)]
pub struct Recorder {
    pub service: &'static str,
    pub pool: PgPool,
    pub wake: Arc<Notify>,
}

const PATH_MAX: usize = 256;

pub async fn record_refusals(
    State(recorder): State<Recorder>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let path: String = request.uri().path().chars().take(PATH_MAX).collect();
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let login = who(&request);
    let response = next.run(request).await;
    let status = response.status();
    let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    if refused && response.extensions().get::<AlreadyRecorded>().is_none() {
        let actor = match &login {
            Some(login) => Actor {
                kind: contracts::envelope::ActorKind::Person,
                id: Some(login.clone()),
                role: None,
            },
            None => Actor::system(recorder.service),
        };
        let event = Envelope::new(
            actor,
            crate::clock::Clock::now(&crate::clock::SystemClock),
            AccessRefused {
                service: recorder.service.to_owned(),
                method: method.to_string(),
                path,
                status: status.as_u16(),
                login,
                address,
            },
        );
        let recorded = async {
            let mut tx = recorder.pool.begin().await?;
            crate::outbox::outbox_insert_event(&mut tx, &event).await?;
            tx.commit().await
        }
        .await;
        match recorded {
            Ok(()) => recorder.wake.notify_one(),
            Err(error) => tracing::error!(%error, "a refusal could not be recorded"),
        }
    }
    response
}

/// Who the request's token says is asking, if it verifies (for either audience).
fn who(request: &Request) -> Option<String> {
    let verifier = request.extensions().get::<TokenVerifier>()?;
    let token = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    let now = verifier.clock.now();
    [Audience::Staff, Audience::Portal]
        .into_iter()
        .find_map(|aud| crate::auth::verify(&verifier.keys, token, aud, now).ok())
        .map(|claims| claims.sub)
}
