//! A fresh PostgreSQL database per test, dropped afterwards.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

pub struct TestDatabase {
    pub name: String,
    admin_url: String,
}

pub fn admin_url() -> String {
    std::env::var("KLUCZNIK_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDatabase {
    pub async fn create(label: &str) -> Self {
        Self::create_on(&admin_url(), label).await
    }

    /// A fresh database on the server `admin_url` names.
    pub async fn create_on(admin_url: &str, label: &str) -> Self {
        let admin_url = admin_url.to_owned();
        let name = format!("test_{label}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        // A role of lesser rights for a service that runs apart from its schema's owner.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE ROLE \"{name}_app\" LOGIN"
        )))
        .execute(&mut conn)
        .await
        .expect("create the test database's service role");
        Self { name, admin_url }
    }

    /// The role a service runs as when its migrations run as the owner (`username()`).
    pub fn app_username(&self) -> String {
        format!("{}_app", self.name)
    }

    /// Connection options of the service's own role.
    pub fn app_options(&self) -> PgConnectOptions {
        self.options().username(&self.app_username())
    }

    pub fn options(&self) -> PgConnectOptions {
        let options: PgConnectOptions = self.admin_url.parse().expect("a valid admin URL");
        options.database(&self.name).disable_statement_logging()
    }

    pub fn host(&self) -> String {
        self.options().get_host().to_owned()
    }

    pub fn port(&self) -> u16 {
        self.options().get_port()
    }

    pub fn username(&self) -> String {
        self.options().get_username().to_owned()
    }

    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.options())
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                            .execute(&mut conn)
                            .await;
                        let drop = format!("DROP ROLE IF EXISTS \"{name}_app\"");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                            .execute(&mut conn)
                            .await;
                    }
                });
            }
        })
        .join();
    }
}
