//! The access portal for an account created in the panel, on a real database and NATS: the
//! first sign-in with the starting password, the user's own password, the e-mail address
//! and its single-use link (the test plays delivery, opening the sealed token with its key),
//! the activation, and a used, replaced or expired link refused with its reason.

use base64::Engine;
use contracts::streams;
use kit::auth::Role;
use serde_json::{Value, json};
use test_support::in_process::staff_token;
use test_support::{eventually, stored, workspace_root};

mod common;
use common::{Accounts, WAIT, accounts_sealing_to};

const NEW_PASSWORD: &str = "Sosnowa-Polana-2026";

struct Portal {
    accounts: Accounts,
    delivery_key: zeroize::Zeroizing<[u8; 32]>,
    http: reqwest::Client,
}

impl Portal {
    async fn start() -> Self {
        let (accounts, delivery_key) = accounts_sealing_to().await;
        Self {
            accounts,
            delivery_key,
            http: reqwest::Client::new(),
        }
    }

    /// Signs in with the starting password: the session's answer.
    async fn first_sign_in(&self, login: &str, starting: &str) -> Value {
        let (status, session) = self
            .post(
                "/api/portal/login",
                None,
                json!({"login": login, "password": starting}),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        session
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.http.post(self.accounts.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The newest confirmation link's token, as delivery opens it: the `count`-th sent (the
    /// CREDENTIALS stream is a work queue: only its last message is looked at, until it is the
    /// link accounts keeps as the newest).
    async fn newest_token(&self, login: &str, count: i64) -> (String, Value) {
        let js = self.accounts.jetstream().await;
        let (token, event, payload) = eventually(WAIT, "the sealed link", || async {
            let stream = js.get_stream(streams::CREDENTIALS.name).await.ok()?;
            let message = stream
                .get_last_raw_message_by_subject("credentials.email-confirmation")
                .await
                .ok()?;
            let event: Value = serde_json::from_slice(&message.payload).ok()?;
            let data: contracts::events::EmailConfirmationRequested =
                serde_json::from_value(event["data"].clone()).ok()?;
            let sealed = base64::engine::general_purpose::STANDARD
                .decode(&data.sealed_token)
                .ok()?;
            let token = kit::seal::open(&self.delivery_key, &sealed, &data.seal_context()).ok()?;
            let token = String::from_utf8(token.to_vec()).ok()?;
            let (sent, newest): (i64, Option<String>) = sqlx::query_as(
                "SELECT count(*), (array_agg(token_hash ORDER BY sent_at DESC, expires_at DESC))[1]
                 FROM email_confirmations WHERE login = $1",
            )
            .bind(login)
            .fetch_one(&self.accounts.pool)
            .await
            .ok()?;
            let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
            (sent == count && newest.as_deref() == Some(hash.as_str()) && data.login == login)
                .then_some((token, event, message.payload))
        })
        .await;
        assert!(!payload.windows(token.len()).any(|w| w == token.as_bytes()));
        (token, event)
    }
}

/// An account created in the panel for Leszek Żak; its login and starting password.
async fn created(portal: &Portal) -> (String, String) {
    let report = accounts::import_staff::import(
        &portal.accounts.pool,
        &workspace_root().join("services/accounts/sample/staff.csv"),
        &[7; 32],
        kit::clock::Clock::now(&kit::clock::SystemClock),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(report.errors.is_empty());
    let director = staff_token("jkowalski", Role::Director);
    let page: Value = portal
        .http
        .get(portal.accounts.url("/api/panel/staff?q=leszek"))
        .bearer_auth(&director)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = page["members"][0]["id"].as_str().unwrap();
    let response = portal
        .http
        .post(
            portal
                .accounts
                .url(&format!("/api/panel/staff/{id}/account")),
        )
        .bearer_auth(&director)
        .json(&json!({"permissions": ["dziennik.nauczyciel"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let login = response.headers()["klucznik-login"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = lopdf::Document::load_mem(&response.bytes().await.unwrap())
        .unwrap()
        .extract_text(&[1])
        .unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("Hasło startowe"))
        .unwrap();
    let password = lines[at]
        .strip_prefix("Hasło startowe:")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(lines[at + 1])
        .to_owned();
    (login, password)
}

async fn status_of(portal: &Portal, login: &str) -> (String, Option<String>, Option<String>) {
    sqlx::query_as("SELECT status, email, email_pending FROM accounts WHERE login = $1")
        .bind(login)
        .fetch_one(&portal.accounts.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_employee_sets_his_password_gives_an_address_and_its_link_activates_the_account_once() {
    let portal = Portal::start().await;
    let (login, starting) = created(&portal).await;

    let session = portal.first_sign_in(&login, &starting).await;
    assert_eq!(
        (
            session["must_change"].as_bool(),
            session["email_required"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let token = session["token"].as_str().unwrap().to_owned();

    let (status, body) = portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "leszek.zak@example.pl"}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["type"].as_str().map(|t| t.ends_with("password-first"))
        ),
        (409, Some(true))
    );
    let (status, _) = portal
        .post(
            "/api/portal/password",
            Some(&token),
            json!({"new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "nie-adres"}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("email")));
    let (status, sent) = portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "Leszek.Zak@Example.pl"}),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["email"], "leszek.zak@example.pl");
    let (link, event) = portal.newest_token(&login, 1).await;
    assert!(
        event["data"]["confirm_url"]
            .as_str()
            .unwrap()
            .ends_with("/portal/potwierdz")
    );
    assert_eq!(
        status_of(&portal, &login).await,
        ("pending".into(), None, Some("leszek.zak@example.pl".into()))
    );

    let (status, confirmed) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": link}),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["activated"], true);
    assert_eq!(
        status_of(&portal, &login).await,
        ("active".into(), Some("leszek.zak@example.pl".into()), None)
    );
    let (status, used) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": link}),
        )
        .await;
    assert_eq!(
        (
            status,
            used["type"]
                .as_str()
                .map(|t| t.ends_with("confirmation-used"))
        ),
        (410, Some(true))
    );
    let (status, _) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": "x".repeat(43)}),
        )
        .await;
    assert_eq!(status, 404);

    // He signs in as an active user, with his own password and nothing more to do.
    let (status, session) = portal
        .post(
            "/api/portal/login",
            None,
            json!({"login": login, "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            session["must_change"].as_bool(),
            session["email_required"].as_bool()
        ),
        (Some(false), Some(false))
    );

    let steps: Vec<String> =
        sqlx::query_scalar("SELECT step FROM account_history WHERE login = $1 ORDER BY id")
            .bind(&login)
            .fetch_all(&portal.accounts.pool)
            .await
            .unwrap();
    assert_eq!(
        steps,
        [
            "created",
            "permission_granted",
            "sheet_issued",
            "first_login",
            "password_changed",
            "email_given",
            "email_confirmed",
            "activated"
        ]
    );
    let js = portal.accounts.jetstream().await;
    let activated = eventually(WAIT, "the activation", || async {
        let events = stored(&js, streams::ACCOUNTS.name, "accounts.account.activated").await;
        events.into_iter().next()
    })
    .await;
    let activated: Value = serde_json::from_slice(&activated.payload).unwrap();
    assert_eq!(
        activated["data"]["local_admin_email"],
        "jan.kowalski@sp7.edu.krakow.pl"
    );
    assert_eq!(activated["data"]["person_name"], "Leszek Żak");
    assert_eq!(activated["institution_rspo_id"], "12345");
}

#[tokio::test]
async fn a_replaced_or_expired_link_is_refused_and_a_changed_address_waits_for_its_own_link() {
    let portal = Portal::start().await;
    let (login, starting) = created(&portal).await;
    let session = portal.first_sign_in(&login, &starting).await;
    let token = session["token"].as_str().unwrap().to_owned();
    portal
        .post(
            "/api/portal/password",
            Some(&token),
            json!({"new_password": NEW_PASSWORD}),
        )
        .await;
    portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "pomylka@example.pl"}),
        )
        .await;
    let (first, _) = portal.newest_token(&login, 1).await;
    portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "leszek@example.pl"}),
        )
        .await;
    let (second, _) = portal.newest_token(&login, 2).await;
    let (status, body) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": first}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["type"]
                .as_str()
                .map(|t| t.ends_with("confirmation-superseded"))
        ),
        (410, Some(true)),
        "{body}"
    );
    assert_eq!(
        status_of(&portal, &login).await.0,
        "pending",
        "nothing changed"
    );

    sqlx::query(
        "UPDATE email_confirmations SET expires_at = now() - interval '1 minute' WHERE login = $1",
    )
    .bind(&login)
    .execute(&portal.accounts.pool)
    .await
    .unwrap();
    let (status, body) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": second}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["type"]
                .as_str()
                .map(|t| t.ends_with("confirmation-expired"))
        ),
        (410, Some(true))
    );
    assert!(body["detail"].as_str().unwrap().contains("wyślij nowy"));
    assert_eq!(
        status_of(&portal, &login).await,
        ("pending".into(), None, Some("leszek@example.pl".into()))
    );

    // A new link, then (once active) another address: the confirmed one stays until then.
    portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "leszek@example.pl"}),
        )
        .await;
    let (third, _) = portal.newest_token(&login, 3).await;
    let (status, _) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": third}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = portal
        .post(
            "/api/portal/email",
            Some(&token),
            json!({"email": "l.zak@example.pl"}),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        status_of(&portal, &login).await,
        (
            "active".into(),
            Some("leszek@example.pl".into()),
            Some("l.zak@example.pl".into())
        )
    );
    let (fourth, _) = portal.newest_token(&login, 4).await;
    let (status, confirmed) = portal
        .post(
            "/api/portal/email-confirmation",
            None,
            json!({"token": fourth}),
        )
        .await;
    assert_eq!(
        (status, confirmed["activated"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(
        status_of(&portal, &login).await,
        ("active".into(), Some("l.zak@example.pl".into()), None)
    );
}
