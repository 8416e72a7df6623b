//! The services' HTTP APIs, as the console calls them: always with the signed-in person's
//! token, never with a power of its own. What a service refuses is shown, not second-guessed.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The service answered with a problem: shown to the person as it is.
    #[error("{title}")]
    Refused {
        status: u16,
        /// The problem's type, its last segment (`collection-refused`).
        kind: String,
        title: String,
        detail: Option<String>,
        /// The request's field at fault, when the service named one.
        field: Option<String>,
    },
    /// The service could not be reached or answered nonsense.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
    title: String,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

/// A staff member's session with the services, as accounts opened it.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffSignIn {
    pub token: String,
    pub role: String,
}

/// A secret drawn for a staff member's first TOTP app, to be confirmed with its first code.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub token: String,
    pub secret: String,
    pub otpauth: String,
}

/// What a staff sign-in answers: a session, or (for an enrolment an administrator prepared)
/// the secret for the app.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StaffLoginAnswer {
    Enrolment { totp_enrolment: TotpEnrolment },
    Signed(StaffSignIn),
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

/// A page of the queue, as intake lists it.
#[derive(Debug, Deserialize)]
pub struct QueuePage {
    pub cases: Vec<QueueEntry>,
    #[serde(default)]
    pub total: u64,
}

/// A user's session at the access portal.
#[derive(Debug, Clone, Deserialize)]
pub struct PortalSignIn {
    pub token: String,
    pub must_change: bool,
}

/// A service the console asks.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    Accounts,
    Intake,
    Delivery,
    Audit,
}

pub struct Upstream {
    client: Client,
    accounts: Url,
    intake: Url,
    delivery: Url,
    audit: Url,
}

impl Upstream {
    pub fn new(settings: &crate::startup::ConsoleSettings) -> Result<Self, String> {
        let parse =
            |name: &str, url: &str| Url::parse(url).map_err(|e| format!("{name} URL {url:?}: {e}"));
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            accounts: parse("accounts", &settings.accounts_url)?,
            intake: parse("intake", &settings.intake_url)?,
            delivery: parse("delivery", &settings.delivery_url)?,
            audit: parse("audit", &settings.audit_url)?,
        })
    }

    /// The address of `path` (with its query) at `service`.
    pub fn url(&self, service: Service, path: &str) -> Url {
        let base = match service {
            Service::Accounts => &self.accounts,
            Service::Intake => &self.intake,
            Service::Delivery => &self.delivery,
            Service::Audit => &self.audit,
        };
        base.join(path).expect("a path of our own")
    }

    /// `GET` a JSON answer with the person's token.
    pub async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<T, UpstreamError> {
        let response = self
            .client
            .get(self.url(service, path))
            .bearer_auth(token)
            .send()
            .await;
        answer(response).await
    }

    /// `GET` what a service shows anyone (a policy, a public key), without a token.
    pub async fn get_anonymous<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
    ) -> Result<T, UpstreamError> {
        answer(self.client.get(self.url(service, path)).send().await).await
    }

    /// `GET` an answer as it is (a CSV file, a PDF letter), with its content type.
    pub async fn get_raw(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<(String, Vec<u8>), UpstreamError> {
        let response = self
            .client
            .get(self.url(service, path))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unavailable)?;
        raw(response).await
    }

    /// `POST` a JSON body with the person's token; the answer as JSON.
    pub async fn post<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<T, UpstreamError> {
        let response = self
            .client
            .post(self.url(service, path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await;
        answer(response).await
    }

    /// `POST` a JSON body; the answer as it is (a letter to print), with its content type.
    pub async fn post_raw(
        &self,
        service: Service,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<(String, Vec<u8>), UpstreamError> {
        let response = self
            .client
            .post(self.url(service, path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(unavailable)?;
        raw(response).await
    }

    /// Signs a staff member in at accounts; `client` is the browser's address, which
    /// accounts throttles by (the console is one of its trusted proxies).
    pub async fn staff_login(
        &self,
        login: &str,
        password: &str,
        totp: &str,
        client: &str,
    ) -> Result<StaffLoginAnswer, UpstreamError> {
        let totp = (!totp.is_empty()).then_some(totp);
        let response = self
            .client
            .post(self.url(Service::Accounts, "/api/auth/staff-login"))
            .header("x-forwarded-for", client)
            .json(&json!({ "login": login, "password": password, "totp": totp }))
            .send()
            .await;
        answer(response).await
    }

    /// Confirms a staff member's new TOTP app with its first code; signs him in.
    pub async fn confirm_enrolment(
        &self,
        token: &str,
        totp: &str,
    ) -> Result<StaffSignIn, UpstreamError> {
        let response = self
            .client
            .post(self.url(Service::Accounts, "/api/auth/totp-enrolment"))
            .json(&json!({ "token": token, "totp": totp }))
            .send()
            .await;
        answer(response).await
    }

    /// Signs a user in at the access portal, on behalf of the browser at `client`.
    pub async fn portal_login(
        &self,
        login: &str,
        password: &str,
        client: &str,
    ) -> Result<PortalSignIn, UpstreamError> {
        let response = self
            .client
            .post(self.url(Service::Accounts, "/api/portal/login"))
            .header("x-forwarded-for", client)
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await;
        answer(response).await
    }

    /// Ends the session at accounts, so its token stops working in every service.
    pub async fn sign_out(&self, token: &str) -> Result<(), UpstreamError> {
        let response = self
            .client
            .post(self.url(Service::Accounts, "/api/auth/sign-out"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unavailable)?;
        if response.status().is_success() || response.status() == StatusCode::UNAUTHORIZED {
            return Ok(());
        }
        Err(refused(response).await)
    }

    pub async fn queue(&self, token: &str, query: &str) -> Result<QueuePage, UpstreamError> {
        self.get(Service::Intake, &format!("/api/queue?{query}"), token)
            .await
    }

    /// `GET` a JSON answer that a refusal status may carry too (audit's `/verify` answers
    /// 409 with the same report as 200), with that status; a problem document is a refusal.
    pub async fn get_with_status<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<(u16, T), UpstreamError> {
        let response = self
            .client
            .get(self.url(service, path))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unavailable)?;
        let problem = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
        if problem {
            return Err(refused(response).await);
        }
        let status = response.status().as_u16();
        let body = response
            .json()
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("an unreadable answer: {e}")))?;
        Ok((status, body))
    }

    /// `POST` a JSON body with the person's token, for an answer that may be empty:
    /// `None` when the service answered 204 (nothing was done, nothing was wrong).
    pub async fn post_optional<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<Option<T>, UpstreamError> {
        let response = self
            .client
            .post(self.url(service, path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(unavailable)?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        answer(Ok(response)).await.map(Some)
    }

    /// `GET` a body to pass on as it arrives (an export of the record), with its content
    /// type, so the console never holds a whole export in memory.
    pub async fn get_stream(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<(String, axum::body::Body), UpstreamError> {
        let response = self
            .client
            .get(self.url(service, path))
            .bearer_auth(token)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refused(response).await);
        }
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        Ok((kind, axum::body::Body::new(reqwest::Body::from(response))))
    }
}

/// A successful answer's body as it is, with its content type; a refusal as a problem.
async fn raw(response: reqwest::Response) -> Result<(String, Vec<u8>), UpstreamError> {
    if !response.status().is_success() {
        return Err(refused(response).await);
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let body = response.bytes().await.map_err(unavailable)?;
    Ok((kind, body.to_vec()))
}

fn unavailable(error: reqwest::Error) -> UpstreamError {
    UpstreamError::Unavailable(error.without_url().to_string())
}

async fn refused(response: reqwest::Response) -> UpstreamError {
    let status = response.status().as_u16();
    match response.json::<Problem>().await {
        Ok(problem) => UpstreamError::Refused {
            status,
            kind: problem
                .kind
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            title: problem.title,
            detail: problem.detail,
            field: problem.field,
        },
        Err(_) => UpstreamError::Unavailable(format!("the service answered {status}")),
    }
}

async fn answer<T: DeserializeOwned>(
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
