//! The NATS connection, and JetStream streams and consumers declared in code and
//! created or updated idempotently at start-up.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use contracts::permissions::Identity;
use contracts::streams::{ConsumerSpec, StreamSpec};
use secrecy::ExposeSecret;

use crate::platform::StartupError;
use crate::settings::{ConsumerSettings, NatsSettings};

/// The servers of a NATS URL setting: one URL, or a cluster's several separated by commas
/// (the client starts with one and fails over to the others).
pub fn server_urls(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Connects as `party` (a service, or `klucznikctl`) with its nkey, its replies under its
/// own inbox prefix; anonymously only when the settings say so, with a warning.
pub async fn connect(
    settings: &NatsSettings,
    party: &'static str,
) -> Result<async_nats::Client, StartupError> {
    let failed = |reason: String| StartupError::Nats {
        url: settings.url.clone(),
        reason,
    };
    let seed = settings.nkey_seed()?;
    let mut options = match &seed {
        Some(seed) => async_nats::ConnectOptions::with_nkey(seed.expose_secret().to_owned()),
        None => {
            tracing::warn!(
                "connecting to NATS without authentication (nats.allow_anonymous): any client \
                 that reaches this NATS may publish anything"
            );
            async_nats::ConnectOptions::new()
        }
    };
    if let Some(identity) = Identity::parse(party) {
        options = options.custom_inbox_prefix(identity.inbox_prefix());
    }
    if let Some(ca) = &settings.tls_ca_file {
        options = options.require_tls(true).add_root_certificates(ca.clone());
    }
    let options = options
        .name(party)
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
        options.connect(server_urls(&settings.url)),
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
        retention: if spec.work_queue {
            stream::RetentionPolicy::WorkQueue
        } else {
            stream::RetentionPolicy::Limits
        },
        num_replicas: replicas,
        duplicate_window: Duration::from_secs(10 * 60),
        ..Default::default()
    }
}

/// A service's check at start that a stream it uses exists. Streams are the provisioner's
/// (`klucznikctl nats provision`): a service's identity may not create or change them, so a
/// missing one is created here only where that is allowed (a NATS without authentication).
pub async fn check_stream(
    js: &jetstream::Context,
    spec: &StreamSpec,
    settings: &NatsSettings,
) -> Result<(), StartupError> {
    match js.get_stream(spec.name).await {
        Ok(_) => Ok(()),
        Err(_) if settings.allow_anonymous => {
            ensure_stream(js, spec, settings.stream_replicas).await
        }
        Err(error) => Err(StartupError::Stream {
            name: spec.name,
            reason: format!(
                "{error}; streams are created by the provisioner: run `klucznikctl nats provision`"
            ),
        }),
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
        // JetStream stops redelivering a message past its `max_deliver` without telling
        // anyone, so deliveries spent on crashes, pauses or lost acks would lose it
        // silently. The bound is the consumer's own instead: a handler's failure at or past
        // `consumer.max_deliver` dead-letters the message, and a delivery that was simply
        // never answered comes again.
        max_deliver: -1,
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

/// The provisioner's work: every stream of the system created, or brought to its declared
/// configuration. Consumers are left to the services that own them.
pub async fn provision_streams(
    js: &jetstream::Context,
    replicas: usize,
) -> Result<(), StartupError> {
    for spec in contracts::streams::ALL {
        ensure_stream(js, spec, replicas).await?;
    }
    Ok(())
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn a_cluster_url_is_its_servers_in_order() {
        assert_eq!(
            super::server_urls("nats://a:4222, nats://b:4222,,nats://c:4222"),
            ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
        );
        assert_eq!(super::server_urls("nats://a:4222"), ["nats://a:4222"]);
    }
}
