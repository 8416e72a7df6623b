//! The NATS connection, and JetStream streams and consumers declared in code and
//! created or updated idempotently at start-up.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use contracts::streams::{ConsumerSpec, StreamSpec};

use crate::platform::StartupError;
use crate::settings::{ConsumerSettings, NatsSettings};

pub async fn connect(
    settings: &NatsSettings,
    service: &'static str,
) -> Result<async_nats::Client, StartupError> {
    let failed = |reason: String| StartupError::Nats {
        url: settings.url.clone(),
        reason,
    };
    let options = async_nats::ConnectOptions::new()
        .name(service)
        .connection_timeout(Duration::from_secs(settings.connect_timeout_secs))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => tracing::warn!("disconnected from NATS"),
                async_nats::Event::Connected => tracing::info!("connected to NATS"),
                other => tracing::info!(event = %other, "NATS connection event"),
            }
        });
    tokio::time::timeout(
        Duration::from_secs(settings.connect_timeout_secs + 1),
        options.connect(&settings.url),
    )
    .await
    .map_err(|_| failed("timed out".into()))?
    .map_err(|e| failed(e.to_string()))
}

pub fn stream_config(spec: &StreamSpec, replicas: usize) -> stream::Config {
    stream::Config {
        name: spec.name.to_owned(),
        description: Some(spec.description.to_owned()),
        subjects: spec.subjects.iter().map(|s| (*s).to_owned()).collect(),
        max_age: spec.max_age,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: replicas,
        duplicate_window: Duration::from_secs(10 * 60),
        ..Default::default()
    }
}

/// Creates the stream, or brings an existing one to the declared configuration.
pub async fn ensure_stream(
    js: &jetstream::Context,
    spec: &StreamSpec,
    replicas: usize,
) -> Result<(), StartupError> {
    let config = stream_config(spec, replicas);
    match js.create_stream(config.clone()).await {
        Ok(_) => Ok(()),
        Err(create_error) => js
            .update_stream(config)
            .await
            .map(|_| ())
            .map_err(|update_error| StartupError::Stream {
                name: spec.name,
                reason: format!("create: {create_error}; update: {update_error}"),
            }),
    }
}

pub fn consumer_config(spec: &ConsumerSpec, settings: &ConsumerSettings) -> consumer::pull::Config {
    let (filter_subject, filter_subjects) = match spec.filter_subjects {
        [one] => ((*one).to_owned(), Vec::new()),
        many => (
            String::new(),
            many.iter().map(|s| (*s).to_owned()).collect(),
        ),
    };
    consumer::pull::Config {
        durable_name: Some(spec.durable.to_owned()),
        description: Some(format!("{} reads {}", spec.service, spec.stream.name)),
        filter_subject,
        filter_subjects,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: settings.ack_wait(),
        max_deliver: settings.max_deliver,
        deliver_policy: consumer::DeliverPolicy::All,
        max_ack_pending: 1_000,
        ..Default::default()
    }
}

/// Creates the durable consumer, or updates it to the declared configuration.
pub async fn ensure_consumer(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    settings: &ConsumerSettings,
) -> Result<consumer::PullConsumer, StartupError> {
    let failed = |reason: String| StartupError::Consumer {
        name: spec.durable,
        reason,
    };
    let stream = js
        .get_stream(spec.stream.name)
        .await
        .map_err(|e| failed(format!("stream {}: {e}", spec.stream.name)))?;
    stream
        .create_consumer(consumer_config(spec, settings))
        .await
        .map_err(|e| failed(e.to_string()))
}
