//! SMS out: the cipher password to the director's mobile, through one of two gateway
//! shapes behind [`SmsGateway`], chosen by `delivery.sms.kind`.
//!
//! Every message carries a reference (the case number, or the notice's event id): the same
//! one on every retry, so a gateway that honours it sends a message once even when an
//! answer was lost and the try is repeated.
//!
//! - `generic`: POST JSON `{"to": "48…", "message": "…", "id": "<reference>"}` to
//!   `delivery.sms.url`; any 2xx is
//!   success; 5xx, 408, 429, timeouts and refused connections are passing; any other answer
//!   (4xx, or a redirect: none is followed) is permanent.
//! - `smsapi` (SMSAPI.pl): POST a form `to, message, from (optional), format=json,
//!   encoding=utf-8, idx=<reference>, check_idx=1` with `Authorization: Bearer <token>` to `delivery.sms.url` (a bare
//!   `https://api.smsapi.pl` gets `/sms.do`). Success is JSON with `count` and `list`. A
//!   failure is JSON `{"error": <code>, "message": …}`, sometimes with HTTP 200: codes 13
//!   (no valid recipient number) and 14 (sender field refused) are permanent; every other
//!   code (8 request error, 101–105 authorisation and credit, 201/666 gateway faults, …) is
//!   passing, so an operator can top up credit or fix the token while retries continue.
//!   Error 53 (this `idx` was sent already) means an earlier try got through: success.
//!   Without a JSON error the HTTP status decides, as for `generic`.
//!
//! Neither request nor response body ever reaches an error message or a log line: the
//! request holds the cipher password, and a gateway may echo it back.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::msisdn::Msisdn;
use crate::startup::{SmsGatewayKind, SmsSettings};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Worth another try later.
    #[error("{0}")]
    Passing(String),
    /// The gateway refused this message for good (e.g. the number).
    #[error("{0}")]
    Permanent(String),
}

/// Sends one SMS; `Ok` only once the gateway took it. `reference` is the same for every try
/// of one message (at most 64 characters of `[A-Za-z0-9/_-]`).
pub trait SmsGateway: Send + Sync + 'static {
    fn send<'a>(
        &'a self,
        to: &'a Msisdn,
        text: &'a SecretString,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>>;
}

/// The gateway `settings` describe; `token` is `delivery.sms.token` (needed by `smsapi`).
pub fn gateway(
    settings: &SmsSettings,
    token: Option<SecretString>,
) -> Result<Arc<dyn SmsGateway>, String> {
    let url = Url::parse(&settings.url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    let client = client(Duration::from_secs(settings.timeout_secs))?;
    Ok(match settings.kind {
        SmsGatewayKind::Generic => Arc::new(GenericGateway { client, url }),
        SmsGatewayKind::Smsapi => {
            let token = token.filter(|t| !t.expose_secret().is_empty()).ok_or(
                "the smsapi gateway needs delivery.sms.token_file (or delivery.sms.token)",
            )?;
            Arc::new(SmsapiGateway::new(
                client,
                url,
                token,
                settings.sender.clone().filter(|s| !s.is_empty()),
            ))
        }
    })
}

fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A plain JSON webhook (`make run`'s local sink, or a relay in front of a real gateway).
pub struct GenericGateway {
    client: reqwest::Client,
    url: Url,
}

impl GenericGateway {
    pub fn new(url: Url, timeout: Duration) -> Result<Self, String> {
        Ok(Self {
            client: client(timeout)?,
            url,
        })
    }
}

impl SmsGateway for GenericGateway {
    fn send<'a>(
        &'a self,
        to: &'a Msisdn,
        text: &'a SecretString,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let response = self
                .client
                .post(self.url.clone())
                .json(&serde_json::json!({
                    "to": to.as_str(),
                    "message": text.expose_secret(),
                    "id": reference,
                }))
                .send()
                .await
                .map_err(request_failed)?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(by_status(status))
            }
        })
    }
}

/// SMSAPI.pl's `sms.do`.
pub struct SmsapiGateway {
    client: reqwest::Client,
    url: Url,
    token: SecretString,
    sender: Option<String>,
}

impl SmsapiGateway {
    pub fn new(
        client: reqwest::Client,
        mut url: Url,
        token: SecretString,
        sender: Option<String>,
    ) -> Self {
        if url.path().is_empty() || url.path() == "/" {
            url.set_path("/sms.do");
        }
        Self {
            client,
            url,
            token,
            sender,
        }
    }
}

#[derive(Deserialize)]
struct SmsapiAnswer {
    #[serde(default)]
    error: Option<i64>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    list: Option<Vec<serde_json::Value>>,
}

impl SmsGateway for SmsapiGateway {
    fn send<'a>(
        &'a self,
        to: &'a Msisdn,
        text: &'a SecretString,
        reference: &'a str,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            let mut form = vec![
                ("to", to.as_str()),
                ("message", text.expose_secret()),
                ("format", "json"),
                ("encoding", "utf-8"),
                ("idx", reference),
                ("check_idx", "1"),
            ];
            if let Some(sender) = &self.sender {
                form.push(("from", sender.as_str()));
            }
            let response = self
                .client
                .post(self.url.clone())
                .bearer_auth(self.token.expose_secret())
                .form(&form)
                .send()
                .await
                .map_err(request_failed)?;
            let status = response.status();
            let body = response.bytes().await.map_err(request_failed)?;
            smsapi_outcome(status, &body)
        })
    }
}

fn smsapi_outcome(status: StatusCode, body: &[u8]) -> Result<(), SmsError> {
    match serde_json::from_slice::<SmsapiAnswer>(body) {
        Ok(SmsapiAnswer {
            error: Some(53), ..
        }) => Ok(()),
        Ok(SmsapiAnswer {
            error: Some(code), ..
        }) => Err(match code {
            13 | 14 => SmsError::Permanent(format!(
                "SMSAPI refused the recipient or sender (error {code}, HTTP {status})"
            )),
            _ => SmsError::Passing(format!("SMSAPI error {code} (HTTP {status})")),
        }),
        Ok(SmsapiAnswer {
            count: Some(count),
            list: Some(_),
            ..
        }) if status.is_success() && count > 0 => Ok(()),
        _ if status.is_success() => Err(SmsError::Passing(format!(
            "SMSAPI answered {status} without a count of sent messages"
        ))),
        _ => Err(by_status(status)),
    }
}

fn by_status(status: StatusCode) -> SmsError {
    let passing = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if passing {
        SmsError::Passing(format!("the SMS gateway answered {status}"))
    } else {
        SmsError::Permanent(format!("the SMS gateway refused the message ({status})"))
    }
}

/// The request did not get an answer. The URL is left out (it may hold a key).
fn request_failed(error: reqwest::Error) -> SmsError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    SmsError::Passing(format!("SMS gateway: {kind}: {}", error.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_smsapi_error_13_or_14_is_permanent_even_with_http_200() {
        for code in [13, 14] {
            let body = format!(r#"{{"error": {code}, "message": "Invalid phone number"}}"#);
            assert!(matches!(
                smsapi_outcome(StatusCode::OK, body.as_bytes()),
                Err(SmsError::Permanent(_))
            ));
        }
    }

    #[test]
    fn an_smsapi_idx_sent_already_means_an_earlier_try_got_through() {
        let body = br#"{"error": 53, "message": "Not unique idx"}"#;
        assert_eq!(smsapi_outcome(StatusCode::OK, body), Ok(()));
    }

    #[test]
    fn other_smsapi_errors_are_passing() {
        for code in [8, 101, 103, 201, 666] {
            let body = format!(r#"{{"error": {code}, "message": "x"}}"#);
            assert!(matches!(
                smsapi_outcome(StatusCode::OK, body.as_bytes()),
                Err(SmsError::Passing(_))
            ));
        }
    }

    #[test]
    fn an_smsapi_answer_with_a_count_and_a_list_is_success() {
        let body = br#"{"count": 1, "list": [{"id": "1", "points": 0.16, "number": "48600100200", "status": "QUEUE"}]}"#;
        assert_eq!(smsapi_outcome(StatusCode::OK, body), Ok(()));
    }

    #[test]
    fn an_smsapi_answer_that_is_not_json_is_decided_by_its_status() {
        assert!(matches!(
            smsapi_outcome(StatusCode::BAD_GATEWAY, b"<html>"),
            Err(SmsError::Passing(_))
        ));
        assert!(matches!(
            smsapi_outcome(StatusCode::OK, b"OK"),
            Err(SmsError::Passing(_))
        ));
        assert!(matches!(
            smsapi_outcome(StatusCode::NOT_FOUND, b""),
            Err(SmsError::Permanent(_))
        ));
    }

    #[test]
    fn a_bare_smsapi_host_gets_the_sms_do_path() {
        let client = client(Duration::from_secs(1)).unwrap();
        let gateway = SmsapiGateway::new(
            client.clone(),
            Url::parse("https://api.smsapi.pl").unwrap(),
            SecretString::from("t"),
            None,
        );
        assert_eq!(gateway.url.as_str(), "https://api.smsapi.pl/sms.do");
        let gateway = SmsapiGateway::new(
            client,
            Url::parse("https://api2.smsapi.pl/sms.do").unwrap(),
            SecretString::from("t"),
            None,
        );
        assert_eq!(gateway.url.as_str(), "https://api2.smsapi.pl/sms.do");
    }
}
