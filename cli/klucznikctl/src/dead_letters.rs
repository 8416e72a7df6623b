//! Dead letters for an operator: what is kept on the dead-letter stream, and a replay of
//! one once its cause is fixed. The replay goes to the original subject with a new message
//! id and `Klucznik-Replay-Of` naming the original: every consumer that handled the
//! original skips it (its inbox knows that id), the one that gave up handles it again, and
//! if it fails again that is a new dead letter.

use async_nats::jetstream::{self, message::PublishMessage};
use contracts::streams;
use contracts::subjects::headers;

use crate::Failure;

/// One dead letter as the stream keeps it.
struct DeadLetter {
    sequence: u64,
    message: jetstream::message::StreamMessage,
}

impl DeadLetter {
    fn header(&self, name: &str) -> &str {
        self.message
            .headers
            .get(name)
            .map(|v| v.as_str())
            .unwrap_or("")
    }
}

async fn read(js: &jetstream::Context, sequence: u64) -> Result<DeadLetter, Failure> {
    let stream = js
        .get_stream(streams::DEAD_LETTER.name)
        .await
        .map_err(|e| {
            Failure::Unavailable(format!("strumień {}: {e}", streams::DEAD_LETTER.name))
        })?;
    let message = stream.get_raw_message(sequence).await.map_err(|_| {
        Failure::Refused(format!(
            "w strumieniu {} nie ma wiadomości o numerze {sequence}",
            streams::DEAD_LETTER.name
        ))
    })?;
    Ok(DeadLetter { sequence, message })
}

/// Every dead letter, one line each: sequence, service, original subject, deliveries, error.
pub async fn list(js: &jetstream::Context) -> Result<(), Failure> {
    let mut stream = js
        .get_stream(streams::DEAD_LETTER.name)
        .await
        .map_err(|e| {
            Failure::Unavailable(format!("strumień {}: {e}", streams::DEAD_LETTER.name))
        })?;
    let state = stream
        .info()
        .await
        .map_err(|e| Failure::Unavailable(e.to_string()))?
        .state
        .clone();
    if state.messages == 0 {
        println!("brak wiadomości w strumieniu {}", streams::DEAD_LETTER.name);
        return Ok(());
    }
    for sequence in state.first_sequence..=state.last_sequence {
        let Ok(letter) = read(js, sequence).await else {
            continue;
        };
        println!(
            "{}\t{}\t{}\tdoręczeń: {}\t{}",
            letter.sequence,
            letter.header(headers::DEAD_LETTER_SERVICE),
            letter.header(headers::DEAD_LETTER_SUBJECT),
            letter.header(headers::DEAD_LETTER_DELIVERIES),
            letter.header(headers::DEAD_LETTER_ERROR),
        );
    }
    Ok(())
}

/// Publishes dead letter `sequence` again on its original subject.
pub async fn replay(js: &jetstream::Context, sequence: u64) -> Result<(), Failure> {
    let letter = read(js, sequence).await?;
    let subject = letter.header(headers::DEAD_LETTER_SUBJECT).to_owned();
    let original = letter.header(headers::DEAD_LETTER_MESSAGE_ID).to_owned();
    if subject.is_empty() || original.is_empty() {
        return Err(Failure::Refused(format!(
            "wiadomość {sequence} ({}) nie ma nagłówków {} i {}: nie wiadomo, gdzie i jako co ją powtórzyć",
            letter.message.subject,
            headers::DEAD_LETTER_SUBJECT,
            headers::DEAD_LETTER_MESSAGE_ID
        )));
    }
    let mut h = async_nats::HeaderMap::new();
    h.insert(headers::REPLAY_OF, original.as_str());
    // One replay per dead letter: running it twice by mistake publishes once.
    let publish = PublishMessage::build()
        .payload(letter.message.payload.clone())
        .headers(h)
        .message_id(format!("replay:{}:{sequence}", streams::DEAD_LETTER.name));
    let ack = js
        .send_publish(subject.clone(), publish)
        .await
        .map_err(|e| Failure::Unavailable(e.to_string()))?
        .await
        .map_err(|e| Failure::Unavailable(e.to_string()))?;
    if ack.duplicate {
        println!("wiadomość {sequence} została już powtórzona (nic nie wysłano ponownie)");
    } else {
        println!(
            "powtórzono wiadomość {sequence} jako {subject} (numer {} w strumieniu {}); usługi, \
             które ją obsłużyły, pominą ją, a ta, która ją porzuciła, obsłuży ją ponownie",
            ack.sequence, ack.stream
        );
    }
    Ok(())
}
