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
    /// Granted the right to process requests besides the role.
    #[serde(default)]
    pub processing: bool,
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
    /// The account waits for its e-mail address to be given and confirmed.
    #[serde(default)]
    pub email_required: bool,
}

/// A service the console asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Accounts,
    Intake,
    Delivery,
    Revocation,
    Audit,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Intake => "intake",
            Self::Delivery => "delivery",
            Self::Revocation => "revocation",
            Self::Audit => "audit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One call the console makes, as the service's OpenAPI document names it
/// (`proto-schemas/openapi/<service>.json`).
#[derive(Debug)]
pub struct Call {
    pub service: Service,
    pub method: Method,
    /// The path, each `{name}` standing for one segment.
    pub path: &'static str,
    /// The query parameters it may send.
    pub query: &'static [&'static str],
}

const fn call(
    service: Service,
    method: Method,
    path: &'static str,
    query: &'static [&'static str],
) -> Call {
    Call {
        service,
        method,
        path,
        query,
    }
}

/// Every call the console makes, and the only ones it can make: [`Upstream`] refuses any
/// other, and a test checks each against the committed OpenAPI documents. A page that needs
/// another call adds it here, and the test says whether the service describes it.
pub const CALLS: &[Call] = {
    use Method::{Get, Post};
    use Service::{Accounts, Audit, Delivery, Intake, Revocation};
    &[
        call(Accounts, Post, "/api/auth/staff-login", &[]),
        call(Accounts, Post, "/api/auth/totp-enrolment", &[]),
        call(Accounts, Post, "/api/auth/sign-out", &[]),
        call(Accounts, Post, "/api/staff/totp-enrolment", &[]),
        call(Accounts, Post, "/api/portal/login", &[]),
        call(Accounts, Post, "/api/portal/password", &[]),
        call(Accounts, Get, "/api/portal/password-policy", &[]),
        call(Accounts, Post, "/api/portal/email", &[]),
        call(Accounts, Post, "/api/portal/email-confirmation", &[]),
        call(
            Accounts,
            Get,
            "/api/panel/staff",
            &["q", "page", "per_page"],
        ),
        call(Accounts, Get, "/api/panel/staff/{id}", &[]),
        call(Accounts, Post, "/api/panel/staff/{id}/account", &[]),
        call(Accounts, Post, "/api/panel/staff/{id}/sheet", &[]),
        call(Accounts, Post, "/api/panel/staff/{id}/permissions", &[]),
        call(Accounts, Get, "/api/panel/staff/{id}/f-02", &[]),
        call(Accounts, Get, "/api/panel/staff/{id}/f-03", &[]),
        call(Accounts, Get, "/api/panel/f-04", &[]),
        call(Accounts, Get, "/api/panel/permissions", &[]),
        call(Accounts, Get, "/api/panel/local-admins", &[]),
        call(Accounts, Post, "/api/panel/local-admins", &[]),
        call(
            Accounts,
            Post,
            "/api/panel/local-admins/{login}/withdraw",
            &[],
        ),
        call(
            Intake,
            Get,
            "/api/queue",
            &[
                "status",
                "procedure",
                "institution",
                "older_than_days",
                "sort",
                "page",
                "per_page",
            ],
        ),
        call(Intake, Get, "/api/cases/{procedure}/{year}/{sequence}", &[]),
        call(
            Intake,
            Post,
            "/api/cases/{procedure}/{year}/{sequence}/take",
            &[],
        ),
        call(
            Intake,
            Post,
            "/api/cases/{procedure}/{year}/{sequence}/realise",
            &[],
        ),
        call(
            Intake,
            Post,
            "/api/cases/{procedure}/{year}/{sequence}/delivery-agreement",
            &[],
        ),
        call(
            Intake,
            Post,
            "/api/cases/{procedure}/{year}/{sequence}/close",
            &[],
        ),
        call(Intake, Post, "/api/requests", &[]),
        call(Delivery, Get, "/api/collections", &[]),
        call(
            Delivery,
            Post,
            "/api/collections/{procedure}/{year}/{sequence}",
            &[],
        ),
        call(
            Audit,
            Get,
            "/api/events",
            &[
                "pesel",
                "login",
                "institution_rspo_id",
                "case_number",
                "document_id",
                "revocation_request_id",
                "event_type",
                "from",
                "to",
                "after_position",
                "order",
                "before_position",
                "limit",
                "format",
            ],
        ),
        call(
            Audit,
            Get,
            "/api/incidents",
            &["status", "category", "case_number", "after", "limit"],
        ),
        call(Audit, Post, "/api/incidents", &[]),
        call(Audit, Get, "/api/incidents/{year}/{sequence}", &[]),
        call(Audit, Post, "/api/incidents/{year}/{sequence}/status", &[]),
        call(Audit, Get, "/verify", &[]),
        call(Audit, Get, "/api/checkpoints/latest", &[]),
        call(Audit, Post, "/api/checkpoints", &[]),
        call(Revocation, Get, "/api/me", &[]),
        call(Revocation, Get, "/api/revocation-reasons", &[]),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/subordinate-authorisations",
            &[],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/own-unit-employees",
            &[],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/authorisations/{authorisation}",
            &["mode"],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/revocation-requests",
            &[],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/revocation-requests",
            &[],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/panel",
            &["tab"],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/panel/send",
            &[],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/panel/check",
            &[],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/review/fetch",
            &[],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/review",
            &[],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/review/start",
            &[],
        ),
        call(
            Revocation,
            Get,
            "/api/local-databases/{database}/review/{request}",
            &[],
        ),
        call(
            Revocation,
            Post,
            "/api/local-databases/{database}/review/{request}/decision",
            &[],
        ),
        call(Revocation, Post, "/api/register/check", &[]),
    ]
};

/// The entry of [`CALLS`] that `method` `path` (with its query) at `service` is, if any.
pub fn call_of(service: Service, method: Method, path: &str) -> Option<&'static Call> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let names = || {
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name))
    };
    CALLS.iter().find(|call| {
        call.service == service
            && call.method == method
            && fits(call.path, path)
            && names().all(|name| call.query.contains(&name))
    })
}

/// Whether `path` is `template` with each `{name}` a non-empty segment.
fn fits(template: &str, path: &str) -> bool {
    let mut expected = template.split('/');
    let mut given = path.split('/');
    loop {
        match (expected.next(), given.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && !p.is_empty() => {}
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

pub struct Upstream {
    client: Client,
    accounts: Url,
    intake: Url,
    delivery: Url,
    revocation: Url,
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
            revocation: parse("revocation", &settings.revocation_url)?,
            audit: parse("audit", &settings.audit_url)?,
        })
    }

    /// The address of `path` (with its query) at `service`, for a call in [`CALLS`] only.
    pub fn url(&self, method: Method, service: Service, path: &str) -> Result<Url, UpstreamError> {
        if call_of(service, method, path).is_none() {
            let path = path.split_once('?').map_or(path, |(path, _)| path);
            tracing::error!(
                service = service.name(),
                ?method,
                path,
                "a call not in upstream::CALLS"
            );
            return Err(UpstreamError::Unavailable(format!(
                "the console does not call {method:?} {path} of {}",
                service.name()
            )));
        }
        let base = match service {
            Service::Accounts => &self.accounts,
            Service::Intake => &self.intake,
            Service::Delivery => &self.delivery,
            Service::Revocation => &self.revocation,
            Service::Audit => &self.audit,
        };
        base.join(path)
            .map_err(|e| UpstreamError::Unavailable(format!("{path}: {e}")))
    }

    /// The request carries the current trace (`traceparent`): the service's span of it is a
    /// child of the page's.
    fn traced(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        kit::propagation::current_context_headers()
            .into_iter()
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            })
    }

    /// `GET` a JSON answer with the person's token.
    pub async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<T, UpstreamError> {
        let response = self
            .traced(self.client.get(self.url(Method::Get, service, path)?))
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
        let url = self.url(Method::Get, service, path)?;
        answer(self.traced(self.client.get(url)).send().await).await
    }

    /// `GET` an answer as it is (a CSV file, a PDF letter), with its content type.
    pub async fn get_raw(
        &self,
        service: Service,
        path: &str,
        token: &str,
    ) -> Result<(String, Vec<u8>), UpstreamError> {
        let response = self
            .traced(self.client.get(self.url(Method::Get, service, path)?))
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
            .traced(self.client.post(self.url(Method::Post, service, path)?))
            .bearer_auth(token)
            .json(body)
            .send()
            .await;
        answer(response).await
    }

    /// `POST` what needs no token (its body is the proof: a confirmation link's token).
    pub async fn post_anonymous<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, UpstreamError> {
        let url = self.url(Method::Post, service, path)?;
        answer(self.traced(self.client.post(url)).json(body).send().await).await
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
            .traced(self.client.post(self.url(Method::Post, service, path)?))
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
            .traced(self.client.post(self.url(
                Method::Post,
                Service::Accounts,
                "/api/auth/staff-login",
            )?))
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
            .traced(self.client.post(self.url(
                Method::Post,
                Service::Accounts,
                "/api/auth/totp-enrolment",
            )?))
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
            .traced(self.client.post(self.url(
                Method::Post,
                Service::Accounts,
                "/api/portal/login",
            )?))
            .header("x-forwarded-for", client)
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await;
        answer(response).await
    }

    /// Ends the session at accounts, so its token stops working in every service.
    pub async fn sign_out(&self, token: &str) -> Result<(), UpstreamError> {
        let response = self
            .traced(self.client.post(self.url(
                Method::Post,
                Service::Accounts,
                "/api/auth/sign-out",
            )?))
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
            .traced(self.client.get(self.url(Method::Get, service, path)?))
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
            .traced(self.client.post(self.url(Method::Post, service, path)?))
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
            .traced(self.client.get(self.url(Method::Get, service, path)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn document(service: Service) -> serde_json::Value {
        let path = kit::openapi::committed_path(service.name());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run `make schemas`", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn every_call_is_one_the_services_openapi_documents_describe() {
        let mut missing = Vec::new();
        for call in CALLS {
            let document = document(call.service);
            let method = match call.method {
                Method::Get => "get",
                Method::Post => "post",
            };
            let operation = &document["paths"][call.path][method];
            if !operation.is_object() {
                missing.push(format!("{} {method} {}", call.service.name(), call.path));
                continue;
            }
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let described = |name: &str, place: &str| {
                parameters
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == place)
            };
            for name in call.query {
                if !described(name, "query") {
                    missing.push(format!(
                        "{} {method} {}?{name}",
                        call.service.name(),
                        call.path
                    ));
                }
            }
            for segment in call.path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_start_matches('{').trim_end_matches('}');
                if !described(name, "path") {
                    missing.push(format!(
                        "{} {method} {}: {{{name}}}",
                        call.service.name(),
                        call.path
                    ));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "the console calls what the committed OpenAPI documents do not describe: {missing:#?}"
        );
    }

    #[test]
    fn a_call_is_known_by_its_method_its_path_and_its_query_names() {
        assert!(
            call_of(
                Service::Intake,
                Method::Get,
                "/api/cases/ZSZO-05/2026/000001"
            )
            .is_some()
        );
        assert!(
            call_of(
                Service::Intake,
                Method::Post,
                "/api/cases/ZSZO-05/2026/000001"
            )
            .is_none()
        );
        assert!(call_of(Service::Intake, Method::Get, "/api/cases/ZSZO-05/2026").is_none());
        assert!(call_of(Service::Intake, Method::Get, "/api/cases/ZSZO-05//000001").is_none());
        assert!(
            call_of(
                Service::Audit,
                Method::Get,
                "/api/cases/ZSZO-05/2026/000001"
            )
            .is_none()
        );
        assert!(
            call_of(
                Service::Intake,
                Method::Get,
                "/api/queue?status=open&page=2"
            )
            .is_some()
        );
        assert!(call_of(Service::Intake, Method::Get, "/api/queue?statuss=open").is_none());
        assert!(call_of(Service::Audit, Method::Get, "/api/incidents?").is_some());
    }
}
