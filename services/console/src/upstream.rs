//! The services' HTTP APIs, as the console calls them: always with the signed-in person's
//! token, never with a power of its own. What a service refuses is shown, not second-guessed.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The service answered with a problem: shown to the person as it is.
    #[error("{title}")]
    Refused {
        status: u16,
        title: String,
        detail: Option<String>,
    },
    /// The service could not be reached or answered nonsense.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Debug, Deserialize)]
struct Problem {
    title: String,
    #[serde(default)]
    detail: Option<String>,
}

/// A staff member's session with the services, as accounts opened it.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffSignIn {
    pub token: String,
    pub role: String,
}

/// A case in the queue, as intake lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct QueueEntry {
    pub case_number: String,
    pub procedure: String,
    pub status: String,
    pub institution_name: String,
    pub requester_login: String,
    pub target_login: String,
    pub delivery_mode: String,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    pub taken_by: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Queue {
    cases: Vec<QueueEntry>,
}

pub struct Upstream {
    client: Client,
    accounts: Url,
    intake: Url,
}

impl Upstream {
    pub fn new(accounts: &str, intake: &str) -> Result<Self, String> {
        let parse =
            |name: &str, url: &str| Url::parse(url).map_err(|e| format!("{name} URL {url:?}: {e}"));
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            accounts: parse("accounts", accounts)?,
            intake: parse("intake", intake)?,
        })
    }

    /// Signs a staff member in at accounts; `client` is the browser's address, which
    /// accounts throttles by (the console is one of its trusted proxies).
    pub async fn staff_login(
        &self,
        login: &str,
        password: &str,
        totp: &str,
        client: &str,
    ) -> Result<StaffSignIn, UpstreamError> {
        let response = self
            .client
            .post(self.accounts.join("/api/auth/staff-login").expect("a path"))
            .header("x-forwarded-for", client)
            .json(&json!({ "login": login, "password": password, "totp": totp }))
            .send()
            .await;
        answer(response).await
    }

    /// Ends the session at accounts, so its token stops working in every service.
    pub async fn sign_out(&self, token: &str) -> Result<(), UpstreamError> {
        let response = self
            .client
            .post(self.accounts.join("/api/auth/sign-out").expect("a path"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unavailable)?;
        if response.status().is_success() || response.status() == StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        Err(refused(response).await)
    }

    pub async fn queue(&self, token: &str) -> Result<Vec<QueueEntry>, UpstreamError> {
        let response = self
            .client
            .get(self.intake.join("/api/queue").expect("a path"))
            .bearer_auth(token)
            .send()
            .await;
        answer::<Queue>(response).await.map(|q| q.cases)
    }
}

fn unavailable(error: reqwest::Error) -> UpstreamError {
    UpstreamError::Unavailable(error.without_url().to_string())
}

async fn refused(response: reqwest::Response) -> UpstreamError {
    let status = response.status().as_u16();
    match response.json::<Problem>().await {
        Ok(problem) => UpstreamError::Refused {
            status,
            title: problem.title,
            detail: problem.detail,
        },
        Err(_) => UpstreamError::Unavailable(format!("the service answered {status}")),
    }
}

async fn answer<T: serde::de::DeserializeOwned>(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, UpstreamError> {
    let response = response.map_err(unavailable)?;
    if !response.status().is_success() {
        return Err(refused(response).await);
    }
    response
        .json()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("an unreadable answer: {e}")))
}
