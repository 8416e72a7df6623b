//! What the people of the procedures do, as a real client would under faults: every call
//! has a time-out, goes to any replica, and is repeated until the system's state shows it
//! took effect (an answer lost to a crash is not a reason to give up, nor to do it twice).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage};
use contracts::permissions::Identity;
use contracts::subjects;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::System;

use crate::helpers::{problem_kind, zszo_form_for};
use crate::plan::Plan;
use crate::register::authorisation_id;

/// How long the whole drive may take before it counts as stuck.
const DRIVE_LIMIT: Duration = Duration::from_secs(360);

pub struct Driver {
    urls: BTreeMap<&'static str, Vec<String>>,
    /// Where the SMTP server keeps what it received (the confirmation links of procedure C).
    maildir: std::path::PathBuf,
    tokens: BTreeMap<&'static str, String>,
    pub intake: PgPool,
    pub revocation: PgPool,
    seod: jetstream::Context,
    http: reqwest::Client,
    /// Passwords the run saw (procedure C's sheets and users' own): looked for afterwards.
    pub secrets: std::sync::Mutex<Vec<String>>,
}

/// What was asked for, to check against what happened.
pub struct Outcome {
    /// Procedure A: SEOD's document id and the case it became.
    pub cases: Vec<(String, String)>,
    /// Procedure D: the authorisations whose revocation was requested.
    pub authorisations: Vec<String>,
    /// Procedure C: the logins of the accounts created, activated by their users.
    pub accounts: Vec<String>,
}

impl Driver {
    pub async fn new(system: &System, _plan: &Plan) -> Self {
        let mut tokens = BTreeMap::new();
        for login in ["admin.ek04", "anowak", "mkontrola", "jkowalski"] {
            tokens.insert(login, system.staff_token(login).await);
        }
        let urls = ["intake", "revocation", "accounts"]
            .into_iter()
            .map(|s| (s, system.urls(s)))
            .collect();
        Self {
            urls,
            maildir: system.smtp.maildir.clone(),
            tokens,
            intake: system.databases["intake"].pool().await,
            revocation: system.databases["revocation"].pool().await,
            seod: jetstream::new(system.client_as(Identity::Seod).await),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(4))
                .build()
                .expect("an HTTP client"),
            secrets: std::sync::Mutex::default(),
        }
    }

    /// Drives every case to its end state; the work arrives spread over the run (one form
    /// every `plan.stagger`), so that the faults meet it at every step.
    pub async fn run(&self, plan: &Plan) -> Result<Outcome, String> {
        let deadline = Instant::now() + DRIVE_LIMIT;
        let cases = futures::future::join_all((1..=plan.cases).map(|i| async move {
            tokio::time::sleep(plan.stagger * (i as u32 - 1)).await;
            self.procedure_a(i, deadline).await
        }));
        let revocations = self.procedure_d(plan.revocations, plan.stagger * 2, deadline);
        let accounts = futures::future::join_all((1..=plan.accounts).map(|n| async move {
            tokio::time::sleep(plan.stagger * 3 * (n as u32 - 1)).await;
            self.procedure_c(n, deadline).await
        }));
        let (cases, authorisations, accounts) = tokio::join!(cases, revocations, accounts);
        Ok(Outcome {
            cases: cases.into_iter().collect::<Result<_, _>>()?,
            authorisations: authorisations?,
            accounts: accounts.into_iter().collect::<Result<_, _>>()?,
        })
    }

    /// One call to any replica that answers; `None` when none did in time.
    async fn call(
        &self,
        service: &str,
        login: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        for url in &self.urls[service] {
            let mut request = self
                .http
                .request(method.clone(), format!("{url}{path}"))
                .bearer_auth(&self.tokens[login]);
            if let Some(body) = &body {
                request = request.json(body);
            }
            if let Ok(response) = request.send().await {
                let status = response.status().as_u16();
                if status < 500 {
                    return Some((status, response.json().await.unwrap_or(Value::Null)));
                }
            }
        }
        None
    }

    async fn post(
        &self,
        service: &str,
        login: &str,
        path: &str,
        body: Value,
    ) -> Option<(u16, Value)> {
        self.call(service, login, reqwest::Method::POST, path, Some(body))
            .await
    }

    async fn get(&self, service: &str, login: &str, path: &str) -> Option<(u16, Value)> {
        self.call(service, login, reqwest::Method::GET, path, None)
            .await
    }

    /// Procedure A for the `i`-th sample account: SEOD publishes the form; an administrator
    /// takes the case and realises it for delivery by e-mail and SMS.
    async fn procedure_a(&self, i: usize, deadline: Instant) -> Result<(String, String), String> {
        let document = format!("CHAOS-A-{i:02}");
        let form = zszo_form_for(&document, i).to_string();
        // JetStream acknowledges a publish once the stream's replicas have it; until then
        // SEOD publishes again with the same id (a repeat is dropped as a duplicate).
        loop {
            let published = self
                .seod
                .send_publish(
                    subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
                    PublishMessage::build()
                        .payload(form.clone().into_bytes().into())
                        .message_id(&document),
                )
                .await;
            if let Ok(ack) = published
                && tokio::time::timeout(Duration::from_secs(5), ack)
                    .await
                    .is_ok_and(|a| a.is_ok())
            {
                break;
            }
            stuck(deadline, || {
                format!("{document}: the form was never acknowledged")
            })?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let case = loop {
            let found: Option<String> =
                sqlx::query_scalar("SELECT case_number FROM cases WHERE document_id = $1")
                    .bind(&document)
                    .fetch_optional(&self.intake)
                    .await
                    .ok()
                    .flatten();
            if let Some(case) = found {
                break case;
            }
            stuck(deadline, || format!("{document}: no case was registered"))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        loop {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM cases WHERE case_number = $1")
                    .bind(&case)
                    .fetch_optional(&self.intake)
                    .await
                    .ok()
                    .flatten();
            match status.as_deref() {
                Some("closed") => break,
                // Realised: the rest is the system's work.
                Some("realised" | "delivered") => {
                    stuck(deadline, || {
                        format!("{document} ({case}) never closed: {status:?}")
                    })?;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Some("rejected" | "failed" | "expired") => {
                    return Err(format!("{document} ({case}) ended {status:?}"));
                }
                _ => {}
            }
            let path = |action: &str| format!("/api/cases/{case}/{action}");
            self.post("intake", "admin.ek04", &path("take"), json!({}))
                .await;
            self.post(
                "intake",
                "admin.ek04",
                &path("realise"),
                json!({ "delivery": "electronic" }),
            )
            .await;
            stuck(deadline, || {
                format!("{document} ({case}) never realised: {status:?}")
            })?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok((document, case))
    }

    /// Procedure D: Kraków's inspector asks to revoke each authorisation (mode 1); the
    /// forms go through the communication panel; the ministry reviews and accepts each.
    async fn procedure_d(
        &self,
        revocations: usize,
        stagger: Duration,
        deadline: Instant,
    ) -> Result<Vec<String>, String> {
        let ids: Vec<String> = (1..=revocations).map(authorisation_id).collect();
        const KRK: &str = "/api/local-databases/LBD-KRK-1";
        const MEN: &str = "/api/local-databases/LBD-MEN";
        for id in &ids {
            tokio::time::sleep(stagger).await;
            loop {
                let answer = self
                    .post(
                        "revocation",
                        "anowak",
                        &format!("{KRK}/revocation-requests"),
                        json!({ "mode": "subordinate_unit", "authorisation_id": id,
                                "reason": "head_dismissed", "confirmed": true }),
                    )
                    .await;
                match answer {
                    Some((201, _)) => break,
                    // An earlier try went through and its answer was lost.
                    Some((409, problem)) if problem_kind(&problem) == "already-requested" => break,
                    Some((status, problem)) if status != 401 => {
                        return Err(format!("{id}: the request was refused {status}: {problem}"));
                    }
                    _ => {}
                }
                stuck(deadline, || format!("{id}: no request was recorded"))?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        while self.revoked(&ids).await < ids.len() {
            self.panel(KRK, "anowak").await;
            self.post(
                "revocation",
                "mkontrola",
                &format!("{MEN}/review/fetch"),
                json!({}),
            )
            .await;
            if let Some((200, waiting)) = self
                .get("revocation", "mkontrola", &format!("{MEN}/review"))
                .await
            {
                let requests = waiting.as_array().cloned().unwrap_or_default();
                let with = |status: &str| -> Vec<Value> {
                    requests
                        .iter()
                        .filter(|r| r["status"] == status)
                        .map(|r| r["request_id"].clone())
                        .collect()
                };
                let fetched = with("Oczekuje na rozpatrzenie");
                if !fetched.is_empty() {
                    self.post(
                        "revocation",
                        "mkontrola",
                        &format!("{MEN}/review/start"),
                        json!({ "request_ids": fetched }),
                    )
                    .await;
                }
                for request in with("Przyjęty do rozpatrzenia") {
                    let request = request.as_str().unwrap_or_default();
                    self.post(
                        "revocation",
                        "mkontrola",
                        &format!("{MEN}/review/{request}/decision"),
                        json!({ "decision": "accepted", "confirmed": true }),
                    )
                    .await;
                }
            }
            self.panel(MEN, "mkontrola").await;
            stuck(deadline, || {
                "procedure D: not every authorisation was revoked".to_owned()
            })?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(ids)
    }

    /// A call answered with a document (the hand-over sheet): status, login header, body.
    async fn post_for_document(&self, path: &str) -> Option<(u16, String, Vec<u8>)> {
        for url in &self.urls["accounts"] {
            let response = self
                .http
                .post(format!("{url}{path}"))
                .bearer_auth(&self.tokens["jkowalski"])
                .json(&json!({ "permissions": ["dziennik.nauczyciel"] }))
                .send()
                .await;
            if let Ok(response) = response
                && response.status().as_u16() < 500
            {
                let status = response.status().as_u16();
                let login = response
                    .headers()
                    .get("klucznik-login")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if let Ok(body) = response.bytes().await {
                    return Some((status, login, body.to_vec()));
                }
            }
        }
        None
    }

    /// A call of the access portal (no staff token): a portal session's, or none.
    async fn portal(&self, path: &str, token: Option<&str>, body: Value) -> Option<(u16, Value)> {
        for url in &self.urls["accounts"] {
            let mut request = self.http.post(format!("{url}{path}")).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Ok(response) = request.send().await {
                let status = response.status().as_u16();
                if status < 500 {
                    return Some((status, response.json().await.unwrap_or(Value::Null)));
                }
            }
        }
        None
    }

    /// Procedure C for the `n`-th employee: the director creates the account (or, when the
    /// answer with its one sheet was lost, issues a new sheet), the employee signs in with
    /// the starting password, sets his own, gives an address and opens the link e-mailed to
    /// it. Ends when the account is active.
    async fn procedure_c(&self, n: usize, deadline: Instant) -> Result<String, String> {
        let surname = crate::staff::surname(n);
        let member = loop {
            let found = self
                .get(
                    "accounts",
                    "jkowalski",
                    &format!("/api/panel/staff?q={surname}"),
                )
                .await;
            if let Some((200, page)) = found
                && let Some(id) = page["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| m["last_name"] == surname)
                    .and_then(|m| m["id"].as_str())
            {
                break id.to_owned();
            }
            stuck(deadline, || format!("{surname}: not in the staff list"))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        let own = format!("Wlasne-Haslo-Chaos-{n:02}");
        self.secrets.lock().unwrap().push(own.clone());
        let address = crate::staff::email(n);
        // The newest sheet's, until the user's own replaced it.
        let mut starting: Option<String> = None;
        loop {
            stuck(deadline, || {
                format!("{surname}: the account never became active")
            })?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The sheet: a new account's, or a new one for an account whose sheet was lost.
            let mut sheet = self
                .post_for_document(&format!("/api/panel/staff/{member}/account"))
                .await;
            if let Some((409, _, _)) = sheet {
                sheet = self
                    .post_for_document(&format!("/api/panel/staff/{member}/sheet"))
                    .await;
            }
            let login = match sheet {
                Some((201, login, pdf)) => {
                    let password = sheet_password(&pdf)?;
                    self.secrets.lock().unwrap().push(password.clone());
                    starting = Some(password);
                    login
                }
                // The user signed in already (an earlier round got that far): go on from there.
                Some((409, _, _)) => match self.login_of(&member).await {
                    Some(login) => login,
                    None => continue,
                },
                _ => continue,
            };
            if let Some(login) = self
                .confirm(&login, starting.as_deref(), &own, &address, deadline)
                .await?
            {
                return Ok(login);
            }
        }
    }

    /// Signs in with the user's own password (setting it from `starting` first when it was
    /// not set yet), gives `address` and opens the newest link e-mailed to it until the
    /// account is active; `None` to start the round again (with a new sheet).
    async fn confirm(
        &self,
        login: &str,
        starting: Option<&str>,
        own: &str,
        address: &str,
        deadline: Instant,
    ) -> Result<Option<String>, String> {
        let mut changed = starting.is_none();
        loop {
            if self.account_status(login).await.as_deref() == Some("active") {
                return Ok(Some(login.to_owned()));
            }
            stuck(deadline, || format!("{login}: never confirmed"))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sign_in = |password: &str| {
                self.portal(
                    "/api/portal/login",
                    None,
                    json!({ "login": login, "password": password }),
                )
            };
            let password = if changed {
                own
            } else {
                starting.unwrap_or(own)
            };
            let session = match sign_in(password).await {
                Some((200, session)) if !changed => {
                    let token = session["token"].as_str().unwrap_or_default();
                    if let Some((200, _)) = self
                        .portal(
                            "/api/portal/password",
                            Some(token),
                            json!({ "new_password": own }),
                        )
                        .await
                    {
                        changed = true;
                    }
                    continue;
                }
                Some((200, session)) => session,
                // The starting password no longer works: changed by a try whose answer was
                // lost, then his own does.
                Some((401, _)) if !changed => {
                    changed = true;
                    continue;
                }
                // Neither works: that sheet was replaced; a new round.
                Some((401, _)) => return Ok(None),
                _ => continue,
            };
            let token = session["token"].as_str().unwrap_or_default().to_owned();
            if session["email_required"] == true && self.link_for(address).is_none() {
                self.portal(
                    "/api/portal/email",
                    Some(&token),
                    json!({ "email": address }),
                )
                .await;
            }
            let link = tokio::time::timeout(Duration::from_secs(20), async {
                loop {
                    if let Some(link) = self.link_for(address) {
                        return link;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            })
            .await;
            if let Ok(link) = link {
                self.portal(
                    "/api/portal/email-confirmation",
                    None,
                    json!({ "token": link }),
                )
                .await;
            }
        }
    }

    /// The token of the newest confirmation link e-mailed to `address`.
    fn link_for(&self, address: &str) -> Option<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.maildir.join("new"))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
        files.iter().rev().find_map(|file| {
            let raw = std::fs::read(file).ok()?;
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            let to = message.to()?.first()?.address()?.to_owned();
            if to != address {
                return None;
            }
            let body = message.body_text(0)?.into_owned();
            let start = body.find("?t=")? + 3;
            let token: String = body[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            (!token.is_empty()).then_some(token)
        })
    }

    async fn account_status(&self, login: &str) -> Option<String> {
        let (status, page) = self
            .get("accounts", "jkowalski", "/api/panel/staff?per_page=100")
            .await?;
        (status == 200).then_some(())?;
        page["members"]
            .as_array()?
            .iter()
            .find(|m| m["login"] == login)
            .and_then(|m| m["account_status"].as_str().map(str::to_owned))
    }

    async fn login_of(&self, member: &str) -> Option<String> {
        let (status, card) = self
            .get(
                "accounts",
                "jkowalski",
                &format!("/api/panel/staff/{member}"),
            )
            .await?;
        (status == 200).then_some(())?;
        card["login"].as_str().map(str::to_owned)
    }

    /// Sends whatever waits in "Do wysłania" and checks whatever is in "Wysłane".
    async fn panel(&self, database: &str, login: &str) {
        for (tab, action) in [("to_send", "send"), ("sent", "check")] {
            let Some((200, forms)) = self
                .get("revocation", login, &format!("{database}/panel?tab={tab}"))
                .await
            else {
                continue;
            };
            let ids: Vec<Value> = forms
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f["form_id"].clone())
                .collect();
            if !ids.is_empty() {
                self.post(
                    "revocation",
                    login,
                    &format!("{database}/panel/{action}"),
                    json!({ "form_ids": ids }),
                )
                .await;
            }
        }
    }

    async fn revoked(&self, ids: &[String]) -> usize {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM authorisations WHERE id = ANY($1) AND status = 'revoked'",
        )
        .bind(ids)
        .fetch_one(&self.revocation)
        .await
        .unwrap_or(0) as usize
    }
}

fn stuck(deadline: Instant, what: impl FnOnce() -> String) -> Result<(), String> {
    if Instant::now() > deadline {
        Err(format!(
            "stuck after {} s: {}",
            DRIVE_LIMIT.as_secs(),
            what()
        ))
    } else {
        Ok(())
    }
}

/// The starting password a hand-over sheet (PDF) gives.
fn sheet_password(pdf: &[u8]) -> Result<String, String> {
    let dir = test_support::scratch_dir("chaos-sheet");
    let file = dir.join("sheet.pdf");
    std::fs::write(&file, pdf).map_err(|e| e.to_string())?;
    let out = crate::helpers::tool(
        "pdftotext",
        &["-layout", file.to_str().unwrap_or_default(), "-"],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Hasło startowe:")
                .map(|v| v.trim().to_owned())
        })
        .filter(|password| !password.is_empty())
        .ok_or_else(|| format!("no starting password in the sheet: {text}"))
}
