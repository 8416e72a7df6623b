//! The dispatcher: takes electronic deliveries that are due, and for each sends the
//! encrypted letter by e-mail to the institution's RSPO address and then the cipher
//! password by SMS to the director's mobile.
//!
//! # Nothing sent twice, nothing lost
//!
//! Sending is not transactional, so each step leaves a durable mark before the next one:
//!
//! 1. **Claim.** One statement (`FOR UPDATE SKIP LOCKED`) takes due rows, sets a claim
//!    token and pushes `next_attempt_at` a lease ahead: another dispatcher skips them; if
//!    this one dies, they come back when the lease ends, and that claim counts the lost
//!    try as a failed attempt (so a case that kills the process cannot loop forever).
//! 2. **E-mail.** Open the sealed copy, render the letter, encrypt it with the case's cipher
//!    password, send. Only after the relay accepted it: `mail_sent` (with the Message-ID and
//!    the SHA-256 of the encrypted attachment: nothing secret).
//! 3. **SMS** with the same cipher password.
//! 4. **Done.** One transaction: `completed`, the sealed copies wiped (NULL), and
//!    `delivery.dispatch.completed` into the outbox.
//!
//! # The crash between e-mail and SMS
//!
//! The cipher password is drawn once, when the case arrives, and kept sealed to delivery's
//! own key (`crate::domain::cipher`) until the SMS has gone; it is never stored or logged
//! open. Whichever try comes next, after a passing SMS failure, a restart or on another
//! replica, opens it again: a case whose e-mail went out gets only its SMS, and a case
//! whose e-mail did not gets that e-mail encrypted with the same password. So a crash
//! never sends a second letter with a new password. One window remains: the relay accepted
//! an e-mail and the process died before `mail_sent` was stored; the next try sends it again
//! with the same Message-ID and the same password (the second copy says so), and still one
//! SMS. The SMS carries the case number as the gateway's idempotency key for the same
//! window on its side.
//!
//! # Failures
//!
//! A passing failure (SMTP 4xx or unreachable, SMS gateway 5xx or timeout) counts an
//! attempt, keeps the error (technical, no secret) and waits `retry.base_ms` doubling per
//! attempt (at most `retry.max_delay_secs`). A permanent one (SMTP 5xx for the recipient,
//! a number the gateway refuses, a sealed copy that does not open), or the
//! `retry.max_attempts`-th failure, makes the case `failed`, keeps the sealed copy for an
//! administrator's decision and publishes `delivery.dispatch.failed` with a Polish reason.
//! A starting password that expired before delivery makes the case `expired` (its sealed
//! copy is wiped: the password no longer opens anything) and is reported the same way.
//!
//! Letters for collection in person never pass through here: the desk hands them over
//! (`crate::collection`). Password-change notices go out from [`notices`], by the same
//! claim, lease and back-off rules.

pub mod mail;
pub mod notices;
mod outcomes;
pub mod polling;
pub mod sms;

use std::sync::Arc;
use std::time::Duration;

use contracts::forms::Procedure;
use futures::StreamExt;
use kit::clock::Clock;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use self::outcomes::{Cause, Failure, letter_failure, permanent};
use crate::domain::Package;
use crate::domain::cipher;
use crate::domain::msisdn::Msisdn;
use crate::domain::status::DeliveryStatus;
use crate::domain::texts::{MailFacts, attachment_name, mail_body, mail_subject, sms_text};
use crate::letter::{encrypt_pdf, render_pdf, zip_aes};
use crate::preparation::{Unopenable, letter_content};
use crate::store::deliveries::{
    DeliveryRow, deliveries_claim_due, delivery_keep_cipher, delivery_mark_mail_sent,
};

pub use mail::{MailError, Mailer, SmtpMailer};
pub use notices::NoticeSender;
pub use sms::{SmsError, SmsGateway};

/// How the dispatcher works, from `delivery.*` settings.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    pub package: Package,
    /// The e-mail's `From`.
    pub from: Mailbox,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub poll_interval: Duration,
    /// How long a claim keeps other dispatchers off a case.
    pub lease: Duration,
    /// How many cases one claim takes (and sends at once).
    pub batch: i64,
}

pub struct Dispatcher {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsGateway>,
    seal_key: crate::domain::credentials::SealKeys,
    config: DispatchConfig,
    outbox_wake: Arc<Notify>,
    metrics: Arc<kit::metrics::Metrics>,
}

impl Dispatcher {
    pub fn new(
        pool: PgPool,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        sms: Arc<dyn SmsGateway>,
        seal_key: crate::domain::credentials::SealKeys,
        config: DispatchConfig,
        outbox_wake: Arc<Notify>,
    ) -> Self {
        Self {
            pool,
            clock,
            mailer,
            sms,
            seal_key,
            config,
            outbox_wake,
            metrics: Arc::new(kit::metrics::Metrics::new()),
        }
    }

    /// Counts failures into the service's `/metrics` (by default into a registry nobody reads).
    pub fn with_metrics(mut self, metrics: Arc<kit::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Dispatches until `stop` fires, finishing the cases in hand.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let (poll, batch) = (self.config.poll_interval, self.config.batch);
        polling::poll_until_stopped("dispatcher", poll, batch, stop, || self.dispatch_due()).await;
    }

    /// Claims the deliveries that are due and dispatches them; returns how many it claimed.
    pub async fn dispatch_due(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let token = Uuid::new_v4();
        let rows = deliveries_claim_due(
            &self.pool,
            now,
            now + self.config.lease,
            self.config.batch,
            token,
        )
        .await?;
        let claimed = rows.len();
        futures::stream::iter(rows)
            .for_each_concurrent(None, |row| self.dispatch_one(row, token))
            .await;
        Ok(claimed)
    }

    async fn dispatch_one(&self, row: DeliveryRow, token: Uuid) {
        let span = tracing::info_span!(
            "dispatch",
            case_number = %row.case_number,
            status = row.status.as_str(),
            attempts = row.attempts,
            claims = row.claims,
        );
        kit::propagation::adopt_traceparent(&span, row.trace_parent.as_deref());
        async {
            if let Err(failure) = self.attempt(&row, token).await {
                self.record(&row, token, failure).await;
            }
        }
        .instrument(span)
        .await
    }

    /// One try: the e-mail (unless it went out already), then the SMS with the same cipher
    /// password, then the completion.
    async fn attempt(&self, row: &DeliveryRow, token: Uuid) -> Result<(), Failure> {
        let now = self.clock.now();
        if row.attempts >= self.config.max_attempts as i32 {
            return Err(Failure::Exhausted {
                error: row
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "attempts exhausted".into()),
            });
        }
        if now >= row.expires_at {
            return self.expire(row, token, now).await;
        }
        let procedure = row.procedure;
        let mobile = Msisdn::parse(&row.director_mobile).map_err(|e| {
            permanent(
                Cause::RecipientData,
                format!("director's mobile: {e}"),
                "Brak poprawnego numeru służbowego telefonu komórkowego dyrektora placówki, \
                 więc nie można wysłać hasła do pliku. Należy uzupełnić numer w danych placówki.",
            )
        })?;
        let cipher = self.cipher_of(row, token).await?;
        if row.status == DeliveryStatus::MailSent {
            tracing::info!("the e-mail went out already; sending its SMS");
        } else {
            self.send_mail(row, token, procedure, &mobile, &cipher)
                .await?;
        }
        let text = sms_text(&row.case_number, &cipher);
        let sms_span = tracing::info_span!("send SMS", otel.kind = "client");
        self.sms
            .send(&mobile, &text, &row.case_number)
            .instrument(sms_span)
            .await
            .map_err(|e| match e {
                SmsError::Passing(error) => Failure::Passing {
                    cause: Cause::SmsUnavailable,
                    error,
                    reason: "bramka SMS była niedostępna lub chwilowo nie przyjmowała wiadomości"
                        .into(),
                },
                SmsError::Permanent(error) => permanent(
                    Cause::SmsRefused,
                    error,
                    format!(
                        "Bramka SMS odrzuciła wiadomość z hasłem do pliku na numer dyrektora \
                     placówki (kończący się cyframi {}). Należy sprawdzić numer; \
                     zaszyfrowane pismo zostało już wysłane e-mailem.",
                        mobile.ending()
                    ),
                ),
            })?;
        tracing::info!(to = %mobile, "SMS with the cipher password accepted by the gateway");
        self.complete(row, token).await
    }

    /// The case's sealed cipher password, opened; a case that arrived before delivery kept
    /// them gets one now, kept before anything is sent.
    async fn cipher_of(&self, row: &DeliveryRow, token: Uuid) -> Result<SecretString, Failure> {
        let binding = row.cipher_binding();
        let unopenable = |e: cipher::CipherError| {
            permanent(
                Cause::SealedCopy,
                e.to_string(),
                "Nie można otworzyć zapieczętowanego hasła do pliku (klucz usługi delivery \
                 nie pasuje albo dane są uszkodzone); potrzebne jest nowe hasło.",
            )
        };
        if let Some(sealed) = &row.sealed_cipher {
            return cipher::open(&self.seal_key, sealed, &binding).map_err(unopenable);
        }
        if row.status == DeliveryStatus::MailSent {
            // An e-mail went out whose password nobody holds: only a new letter helps.
            return Err(permanent(
                Cause::SealedCopy,
                "an e-mail went out without a kept cipher password",
                "Wysłano e-mail, ale hasło do jego pliku nie zostało zachowane; potrzebne jest \
                 nowe hasło.",
            ));
        }
        let (cipher, sealed) =
            cipher::draw_sealed(&self.seal_key, &binding).map_err(|e| Failure::Passing {
                cause: Cause::Letter,
                error: e.to_string(),
                reason: "nie udało się przygotować hasła do pliku".into(),
            })?;
        if !delivery_keep_cipher(&self.pool, &row.case_number, token, &sealed).await? {
            return Err(Failure::LostClaim);
        }
        Ok(cipher)
    }

    /// Makes and sends the encrypted letter, encrypted with `cipher`; returns once the relay
    /// accepted the e-mail and `mail_sent` is stored.
    async fn send_mail(
        &self,
        row: &DeliveryRow,
        token: Uuid,
        procedure: Procedure,
        mobile: &Msisdn,
        cipher: &SecretString,
    ) -> Result<(), Failure> {
        let case = row.case_number.as_str();
        let address = row.rspo_email.parse().map_err(|e| {
            permanent(
                Cause::RecipientData,
                format!("RSPO e-mail address: {e}"),
                format!(
                    "Adres e-mail placówki w RSPO ({}) jest nieprawidłowy.",
                    row.rspo_email
                ),
            )
        })?;
        let content = letter_content(&self.seal_key, row).map_err(|e| match e {
            Unopenable::NoSealedCopy => permanent(
                Cause::SealedCopy,
                e.to_string(),
                "Brak zapieczętowanej kopii danych dostępowych; potrzebne jest nowe hasło.",
            ),
            Unopenable::Seal(_) => permanent(
                Cause::SealedCopy,
                e.to_string(),
                "Nie można otworzyć zapieczętowanych danych dostępowych (klucz usługi \
                 delivery nie pasuje do klucza użytego przez accounts albo dane są \
                 uszkodzone); potrzebne jest nowe hasło.",
            ),
            Unopenable::LoginDiffers => permanent(
                Cause::SealedCopy,
                e.to_string(),
                "Login w zapieczętowanych danych różni się od loginu sprawy; dane nie zostały wysłane.",
            ),
        })?;
        // The plain letter holds the starting password: wiped when dropped.
        let pdf = Zeroizing::new(render_pdf(&content).map_err(letter_failure)?);
        drop(content);
        let package = self.config.package;
        let pdf_name = attachment_name(case, Package::Pdf.extension());
        let (file_name, attachment) = match package {
            Package::Pdf => (
                pdf_name,
                encrypt_pdf(&pdf, cipher.expose_secret()).map_err(letter_failure)?,
            ),
            Package::Zip => (
                attachment_name(case, package.extension()),
                zip_aes(&pdf, &pdf_name, cipher.expose_secret()).map_err(letter_failure)?,
            ),
        };
        drop(pdf);
        let attachment_sha256 = hex::encode(Sha256::digest(&attachment));
        // The same for every sending of this case: a mailbox that got it twice (a crash
        // between the relay's acceptance and the mark below) may tell they are one message.
        let message_id = format!(
            "<{}@{}>",
            row.issued_event_id,
            self.config.from.email.domain()
        );
        let body = mail_body(&MailFacts {
            procedure,
            case_number: case,
            institution_name: &row.institution_name,
            mobile_ending: mobile.ending(),
            package,
            repeats_earlier: row.mails_accepted > 0 || row.interrupted_tries > 0,
        });
        let content_type = ContentType::parse(package.content_type()).map_err(|e| {
            permanent(
                Cause::Letter,
                format!("content type: {e}"),
                "Błąd wewnętrzny usługi delivery.",
            )
        })?;
        let message = Message::builder()
            .from(self.config.from.clone())
            .to(Mailbox::new(Some(row.institution_name.clone()), address))
            .subject(mail_subject(procedure, case))
            .message_id(Some(message_id.clone()))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(Attachment::new(file_name).body(attachment, content_type)),
            )
            .map_err(|e| {
                permanent(
                    Cause::Letter,
                    format!("the e-mail cannot be built: {e}"),
                    "Nie można zbudować wiadomości e-mail z danymi dostępowymi.",
                )
            })?;
        let mail_span = tracing::info_span!("send e-mail", otel.kind = "client");
        self.mailer
            .send(message)
            .instrument(mail_span)
            .await
            .map_err(|e| match e {
                MailError::Passing(error) => Failure::Passing {
                    cause: Cause::SmtpUnavailable,
                    error,
                    reason: "serwer poczty był niedostępny lub chwilowo nie przyjmował wiadomości"
                        .into(),
                },
                MailError::Permanent { code, error } => permanent(
                    Cause::SmtpRefused,
                    error,
                    format!(
                        "Serwer poczty trwale odrzucił wiadomość na adres placówki w RSPO ({}), \
                     kod SMTP {code}. Należy sprawdzić adres e-mail placówki.",
                        row.rspo_email
                    ),
                ),
            })?;
        tracing::info!(%message_id, attachment_sha256, "e-mail with the encrypted letter accepted by the SMTP relay");
        let now = self.clock.now();
        if !delivery_mark_mail_sent(
            &self.pool,
            case,
            token,
            &message_id,
            &attachment_sha256,
            now,
        )
        .await?
        {
            return Err(Failure::LostClaim);
        }
        Ok(())
    }
}
