//! Signs the chain head periodically and when the service stops; each checkpoint is kept in
//! the database, published on the AUDIT stream (through the outbox) and, when configured,
//! written to a file.
//!
//! A checkpoint is never signed over a chain that does not extend the newest checkpoint kept
//! outside the database: an intruder who cut off the newest records and rewound the head
//! would otherwise have audit itself sign the shorter chain and overwrite the evidence.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use contracts::subjects;
use ed25519_dalek::SigningKey;
use kit::clock::Clock;
use kit::outbox::outbox_insert_json;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::checkpoint::{Checkpoint, Signed};
use crate::error::Error;
use crate::store::{checkpoints, records};
use crate::verification::newest_published_checkpoint;

pub struct Checkpointer {
    pub pool: PgPool,
    pub key: SigningKey,
    pub clock: Arc<dyn Clock>,
    pub interval: Duration,
    pub export_file: Option<PathBuf>,
    pub outbox_wake: Arc<Notify>,
    /// Where the newest published checkpoint is read back from.
    pub js: jetstream::Context,
}

impl Checkpointer {
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = stop.cancelled() => break,
            }
            self.checkpoint_logged().await;
        }
        self.checkpoint_logged().await;
    }

    async fn checkpoint_logged(&self) {
        match self.checkpoint().await {
            Ok(Some(cp)) => tracing::info!(position = cp.position, "audit chain checkpoint signed"),
            Ok(None) => {}
            Err(error @ Error::ChainDoesNotExtend { .. }) => {
                tracing::error!(%error, "audit refuses to sign a checkpoint; run /verify")
            }
            Err(error) => tracing::error!(%error, "signing an audit checkpoint failed"),
        }
    }

    /// Signs the current head unless it is already signed.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, Error> {
        let (position, hash) = records::chain_head(&self.pool).await?;
        if position == 0 || position <= checkpoints::checkpoint_newest_position(&self.pool).await? {
            return Ok(None);
        }
        if let Some(outside) = self.newest_outside().await {
            self.check_extends(&outside, position).await?;
        }
        let cp = Checkpoint::sign(&self.key, position, &hash, self.clock.now());
        let mut tx = self.pool.begin().await?;
        checkpoints::checkpoint_insert_in_txn(&mut tx, &cp).await?;
        outbox_insert_json(
            &mut tx,
            Uuid::now_v7(),
            subjects::AUDIT_CHECKPOINT_SIGNED,
            &cp,
        )
        .await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        if let Some(path) = &self.export_file {
            export(path, &cp).await;
        }
        Ok(Some(cp))
    }

    /// The newest of our own checkpoints on the bus and in the file.
    async fn newest_outside(&self) -> Option<Checkpoint> {
        let trusted = self.key.verifying_key();
        let on_bus = newest_published_checkpoint(&self.js).await;
        let in_file = match &self.export_file {
            Some(path) => tokio::fs::read(path)
                .await
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Checkpoint>(&bytes).ok()),
            None => None,
        };
        [on_bus, in_file]
            .into_iter()
            .flatten()
            .filter(|cp| cp.is_signed_by(&trusted))
            .max_by_key(|cp| cp.position)
    }

    async fn check_extends(&self, outside: &Checkpoint, head: i64) -> Result<(), Error> {
        let refuse = |why| Error::ChainDoesNotExtend {
            outside: outside.position,
            why,
        };
        if head < outside.position {
            return Err(refuse("the head is behind it"));
        }
        match records::record_hash_at(&self.pool, outside.position).await? {
            Some(hash) if hex::encode(&hash) == outside.hash => Ok(()),
            Some(_) => Err(refuse("its record has another hash")),
            None => {
                let pruned = checkpoints::pruned_newest(&self.pool).await?;
                match pruned {
                    Some((upto, _)) if upto >= outside.position => Ok(()),
                    _ => Err(refuse("its record is missing")),
                }
            }
        }
    }
}

/// Replaces the file atomically, so a reader never sees half a checkpoint.
async fn export(path: &PathBuf, cp: &Checkpoint) {
    let tmp = path.with_extension("tmp");
    let body = serde_json::to_vec_pretty(cp).unwrap_or_default();
    let result = async {
        tokio::fs::write(&tmp, body).await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(%error, path = %path.display(), "writing the checkpoint file failed");
    }
}
