//! Signs the chain head periodically and when the service stops; each checkpoint is kept in
//! the database, published on the AUDIT stream (through the outbox) and, when configured,
//! written to a file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use contracts::subjects;
use ed25519_dalek::SigningKey;
use kit::clock::Clock;
use kit::outbox::outbox_insert_json;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::checkpoint::{Checkpoint, Signed};
use crate::store::{checkpoints, records};

pub struct Checkpointer {
    pub pool: PgPool,
    pub key: SigningKey,
    pub clock: Arc<dyn Clock>,
    pub interval: Duration,
    pub export_file: Option<PathBuf>,
    pub outbox_wake: Arc<Notify>,
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
            Err(error) => tracing::error!(%error, "signing an audit checkpoint failed"),
        }
    }

    /// Signs the current head unless it is already signed.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, sqlx::Error> {
        let (position, hash) = records::chain_head(&self.pool).await?;
        if position == 0 || position <= checkpoints::checkpoint_newest_position(&self.pool).await? {
            return Ok(None);
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
