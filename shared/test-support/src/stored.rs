//! What a stream holds now, read the way a test looks at it: every message on a subject
//! (a wildcard filter is fine), with the dead-letter reason where there is one.

use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;

/// One message as the stream keeps it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub subject: String,
    pub payload: Vec<u8>,
    /// The reason a dead letter carries (`Klucznik-Error`), if any.
    pub error: Option<String>,
}

/// Every message on `subject` in `stream`, oldest first; the end is where 300 ms pass
/// without another.
pub async fn stored(js: &jetstream::Context, stream: &str, subject: &str) -> Vec<Stored> {
    let consumer = js
        .get_stream(stream)
        .await
        .unwrap_or_else(|e| panic!("the {stream} stream: {e}"))
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: subject.to_owned(),
            ..Default::default()
        })
        .await
        .expect("an ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut out = Vec::new();
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_millis(300), messages.next()).await
    {
        let error = message
            .headers
            .as_ref()
            .and_then(|h| h.get(contracts::subjects::headers::DEAD_LETTER_ERROR))
            .map(|v| v.to_string());
        out.push(Stored {
            subject: message.subject.to_string(),
            payload: message.payload.to_vec(),
            error,
        });
    }
    out
}
