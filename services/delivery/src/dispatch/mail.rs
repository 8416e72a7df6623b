//! E-mail out: the transport behind [`Mailer`], so that it can be replaced, and the SMTP
//! relay that `delivery.smtp` configures (lettre over rustls; no connection pool: a few
//! letters a day, each on a connection of its own).

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::startup::{SmtpSettings, SmtpTls};

/// Why an e-mail did not go out. Messages are technical and hold no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth another try later: the relay unreachable, a 4xx answer, a timeout, or a 5xx
    /// that blames the relay or its configuration rather than the recipient.
    #[error("{0}")]
    Passing(String),
    /// The relay refused this message for good, e.g. an unknown recipient (550).
    #[error("{error}")]
    Permanent { code: String, error: String },
}

/// Hands a message to the mail system; `Ok` only once the relay accepted it.
pub trait Mailer: Send + Sync + 'static {
    fn send(&self, message: Message) -> BoxFuture<'_, Result<(), MailError>>;
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// `password` is the secret of `settings.username`; without a username nobody logs in.
    pub fn new(settings: &SmtpSettings, password: Option<SecretString>) -> Result<Self, String> {
        crate::install_crypto_provider();
        let host = settings.host.as_str();
        let builder = match settings.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("cannot use {host} for STARTTLS: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("cannot use {host} for TLS: {e}"))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_secs)));
        if let Some(username) = settings.username.as_deref().filter(|u| !u.is_empty()) {
            let password = password.ok_or_else(|| {
                "delivery.smtp.username is set but delivery.smtp.password_file (or \
                 delivery.smtp.password) is not"
                    .to_owned()
            })?;
            builder = builder.credentials(Credentials::new(
                username.to_owned(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
        })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, message: Message) -> BoxFuture<'_, Result<(), MailError>> {
        Box::pin(async move {
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(classify)
        })
    }
}

/// A 5xx answer is permanent (550 mailbox unavailable, 553 address refused, 554, 521/556
/// domain takes no mail, …), except where the fault lies with the relay or its configuration
/// rather than the recipient: 500–504 (a command the relay did not take, or its own
/// failure) and a refused login (530, 534, 535, 538). Those, like every 4xx answer, a refused
/// or dropped connection, TLS trouble and timeouts, are passing: retries give an operator
/// time to act, and `retry.max_attempts` still ends them.
fn classify(error: lettre::transport::smtp::Error) -> MailError {
    let text = format!("SMTP: {error}");
    match error.status() {
        Some(code) if error.is_permanent() => {
            let code = code.to_string();
            let relay_side = matches!(
                code.as_str(),
                "500" | "501" | "502" | "503" | "504" | "530" | "534" | "535" | "538"
            );
            if relay_side {
                MailError::Passing(text)
            } else {
                MailError::Permanent { code, error: text }
            }
        }
        _ => MailError::Passing(text),
    }
}
