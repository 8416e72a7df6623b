//! What JetStream's durability costs: acknowledged publishes per second to a stream on one
//! node and on a three-node cluster (three replicas), with every write fsynced before its
//! acknowledgement (`sync_interval: always`, Klucznik's choice) and with nats-server's
//! default (a sync every two minutes, which a power loss can cut short).

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use test_support::NatsServer;

const MESSAGES: usize = 3_000;
/// Publishes awaiting their acknowledgement at once, as several services' relays have.
const IN_FLIGHT: usize = 32;
/// About the size of one of Klucznik's events.
const PAYLOAD: usize = 1_200;

async fn rate(nodes: usize, sync: Option<&str>) -> f64 {
    let server = NatsServer::cluster_with_sync(nodes, sync);
    let js = jetstream::new(server.client().await);
    let config = stream::Config {
        name: "BENCH_DURABILITY".into(),
        subjects: vec!["bench.durability".into()],
        storage: stream::StorageType::File,
        num_replicas: nodes,
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while js.create_stream(config.clone()).await.is_err() {
        assert!(Instant::now() < deadline, "the bench stream");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let payload = vec![b'x'; PAYLOAD];
    let started = Instant::now();
    futures::stream::iter(0..MESSAGES)
        .for_each_concurrent(IN_FLIGHT, |_| {
            let (js, payload) = (js.clone(), payload.clone());
            async move {
                js.publish("bench.durability", payload.into())
                    .await
                    .expect("publish")
                    .await
                    .expect("acknowledged");
            }
        })
        .await;
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

pub async fn run() {
    for nodes in [1, 3] {
        let always = rate(nodes, Some("always")).await;
        let lazy = rate(nodes, None).await;
        println!(
            "bus: {nodes} node(s), {} replica(s): {always:.0} acknowledged publishes/s with \
             sync_interval always, {lazy:.0}/s with the default (two-minute) sync: fsync on \
             every write costs {:.0} % of the rate ({MESSAGES} messages of {PAYLOAD} bytes, \
             {IN_FLIGHT} in flight)",
            nodes,
            (1.0 - always / lazy) * 100.0
        );
    }
}
