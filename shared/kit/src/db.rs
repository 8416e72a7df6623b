//! The service's own PostgreSQL database: a pool, and migrations applied at start-up
//! (the kit's tables first, then the service's own).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::platform::StartupError;
use crate::settings::DatabaseSettings;

static KIT_MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, StartupError> {
    let options = settings.connect_options().map_err(StartupError::Settings)?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.connect_timeout_secs))
        .connect_with(options)
        .await
        .map_err(|e| StartupError::Database {
            target: settings.describe(),
            reason: e.to_string(),
        })
}

/// Applies the kit's and the service's migrations. Both share sqlx's bookkeeping table,
/// so each ignores the other's versions (the kit's are small numbers, a service's dated).
pub async fn migrate(pool: &PgPool, service: &Migrator) -> Result<(), StartupError> {
    for (owner, migrator) in [("kit", &KIT_MIGRATIONS), ("service", service)] {
        let mut migrator = Migrator {
            migrations: migrator.migrations.clone(),
            ignore_missing: true,
            locking: migrator.locking,
            no_tx: migrator.no_tx,
            ..Migrator::DEFAULT
        };
        migrator.set_ignore_missing(true);
        migrator
            .run(pool)
            .await
            .map_err(|e| StartupError::Migration {
                owner,
                reason: e.to_string(),
            })?;
    }
    Ok(())
}

/// Migrates as the owner when one is configured (then grants the service's own role what it
/// needs, `kit_grant_app`), otherwise with the service's own pool. Answers a pool of the
/// owner (one connection) for what only the owner may do at start, or the service's pool.
pub async fn migrate_as_owner(
    settings: &DatabaseSettings,
    pool: &PgPool,
    service: &Migrator,
) -> Result<PgPool, StartupError> {
    let Some(options) = settings
        .migration_options()
        .map_err(StartupError::Settings)?
    else {
        migrate(pool, service).await?;
        return Ok(pool.clone());
    };
    let owner = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(settings.connect_timeout_secs))
        .connect_with(options)
        .await
        .map_err(|e| StartupError::Database {
            target: format!("{} (as the migration owner)", settings.describe()),
            reason: e.to_string(),
        })?;
    migrate(&owner, service).await?;
    // Replicas start together and grant the same rights: GRANTs on the same objects at
    // once fail with "tuple concurrently updated", so one replica grants at a time.
    let granted = async {
        let mut tx = owner.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kit_grant_app'))")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT kit_grant_app($1)")
            .bind(&settings.username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    };
    granted.await.map_err(|e| StartupError::Migration {
        owner: "kit",
        reason: format!("granting {} its rights: {e}", settings.username),
    })?;
    Ok(owner)
}
