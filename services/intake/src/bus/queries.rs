//! Answers `klucznik.query.intake.case` over core NATS request/reply.

use contracts::query::{CaseQuery, CaseQueryReply};
use contracts::subjects;
use futures::StreamExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub async fn subscribe(
    nats: &async_nats::Client,
) -> Result<async_nats::Subscriber, async_nats::SubscribeError> {
    nats.queue_subscribe(subjects::QUERY_INTAKE_CASE, crate::SERVICE.to_owned())
        .await
}

pub async fn serve(
    mut requests: async_nats::Subscriber,
    nats: async_nats::Client,
    pool: PgPool,
    stop: CancellationToken,
) {
    loop {
        let request = tokio::select! {
            request = requests.next() => request,
            _ = stop.cancelled() => break,
        };
        let Some(request) = request else { break };
        let Some(reply_to) = request.reply.clone() else {
            continue;
        };
        let reply = answer(&pool, &request.payload).await;
        let body = serde_json::to_vec(&reply).unwrap_or_default();
        if let Err(error) = nats.publish(reply_to, body.into()).await {
            tracing::warn!(%error, "cannot reply to a case query");
        }
    }
    let _ = requests.unsubscribe().await;
}

#[tracing::instrument(skip_all)]
async fn answer(pool: &PgPool, payload: &[u8]) -> CaseQueryReply {
    let query: CaseQuery = match serde_json::from_slice(payload) {
        Ok(query) => query,
        Err(error) => {
            return CaseQueryReply::Invalid {
                message: format!("Niepoprawne zapytanie: {error}"),
            };
        }
    };
    match crate::store::cases::case_view(pool, query.case_number.trim()).await {
        Ok(Some(case)) => CaseQueryReply::Found {
            case: Box::new(case),
        },
        Ok(None) => CaseQueryReply::NotFound {
            message: format!("Nie ma sprawy o numerze {}.", query.case_number),
        },
        Err(error) => {
            tracing::error!(%error, "case query failed");
            CaseQueryReply::Invalid {
                message: "Nie można teraz odczytać sprawy; spróbuj ponownie.".into(),
            }
        }
    }
}
