//! tower-sessions' store on the console's PostgreSQL: a session survives a restart of the
//! console and is the same on every replica. Expired rows are deleted now and then.

use std::time::Duration;

use async_trait::async_trait;
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
            let inserted = sqlx::query(
                "INSERT INTO console_sessions (id, record, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(sqlx::types::Json(&*record))
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
        sqlx::query(
            "INSERT INTO console_sessions (id, record, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(sqlx::types::Json(record))
        .bind(expires_at(record))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<sqlx::types::Json<Record>> = sqlx::query_scalar(
            "SELECT record FROM console_sessions WHERE id = $1 AND expires_at > now()",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(|r| r.0))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
