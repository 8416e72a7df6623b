//! tower-sessions' store on the console's PostgreSQL: a session survives a restart of the
//! console and is the same on every replica. Expired rows are deleted now and then.
//!
//! A record holds a staff member's token for the services. It is kept sealed by the cookie's
//! own id, which only the browser holds: the row is found by a hash of the id, and the record
//! is encrypted under a key derived from it. A copy of the table therefore opens no session
//! and shows no token, and the console needs no key of its own to guard.

use std::time::Duration;

use async_trait::async_trait;
use kit::at_rest::AtRestKey;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn expires_at(record: &Record) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
}

/// The row's key for a session id: what the database may know of it.
fn row_key(id: &Id) -> String {
    hex::encode(Sha256::digest(format!("klucznik-session-row:{id}")))
}

fn sealing_key(id: &Id) -> AtRestKey {
    AtRestKey::new(&Sha256::digest(format!("klucznik-session-key:{id}")).into())
}

fn sealed(record: &Record) -> session_store::Result<(String, String)> {
    let key = row_key(&record.id);
    let plain = serde_json::to_vec(record).map_err(backend)?;
    let sealed = sealing_key(&record.id)
        .encrypt(&key, &plain)
        .map_err(backend)?;
    Ok((key, sealed))
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Deletes expired sessions every `every` until `stop` fires.
    pub fn expire_continually(
        self,
        every: Duration,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.cancelled() => break,
                }
                if let Err(error) =
                    sqlx::query("DELETE FROM console_sessions WHERE expires_at < now()")
                        .execute(&self.pool)
                        .await
                {
                    tracing::warn!(%error, "expired sessions could not be deleted");
                }
            }
        })
    }
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id that no session holds yet: a collision is drawn again.
        loop {
            let (key, sealed) = sealed(record)?;
            let inserted = sqlx::query(
                "INSERT INTO console_sessions (id, record, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(key)
            .bind(sealed)
            .bind(expires_at(record))
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (key, sealed) = sealed(record)?;
        sqlx::query(
            "INSERT INTO console_sessions (id, record, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(sealed)
        .bind(expires_at(record))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = row_key(id);
        let row: Option<String> = sqlx::query_scalar(
            "SELECT record FROM console_sessions WHERE id = $1 AND expires_at > now()",
        )
        .bind(&key)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(stored) = row else {
            return Ok(None);
        };
        // A record that does not open under this id was not made for it: no session.
        let Ok(plain) = sealing_key(id).decrypt(&key, &stored) else {
            tracing::warn!("a stored session did not open under its own id");
            return Ok(None);
        };
        serde_json::from_slice(&plain).map(Some).map_err(backend)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE id = $1")
            .bind(row_key(id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
