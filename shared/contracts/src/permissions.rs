//! Who may say what on the bus: each party's NATS identity and the subjects it may publish
//! and subscribe to. The nats-server configuration is generated from this table
//! (`kit::nats_auth`), so a service, SEOD or the command line can send only what it owns and
//! read only what it consumes.
//!
//! The rules:
//! - a service publishes only under its own name (`intake.>`, …), intake also the statuses
//!   SEOD reads, and each its own dead letters (`deadletter.<service>.>`);
//! - a service reads a stream only through its own durable consumers, which it alone may
//!   create, fetch from and acknowledge; streams are created by the provisioner;
//! - replies (JetStream acknowledgements, API answers) go to an inbox prefix of the
//!   identity's own (`_INBOX_<identity>.>`), so no party can read another's replies;
//! - SEOD publishes only forms and reads only statuses;
//! - the provisioner (streams, and the tests' own observer) may do everything.

use crate::streams::{self, ConsumerSpec, StreamSpec, consumers};
use crate::subjects;

/// A party on the bus with its own NATS identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Identity {
    Intake,
    Accounts,
    Delivery,
    Revocation,
    Audit,
    Seod,
    Klucznikctl,
    Provisioner,
}

impl Identity {
    pub const ALL: [Identity; 8] = [
        Identity::Intake,
        Identity::Accounts,
        Identity::Delivery,
        Identity::Revocation,
        Identity::Audit,
        Identity::Seod,
        Identity::Klucznikctl,
        Identity::Provisioner,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Identity::Intake => "intake",
            Identity::Accounts => "accounts",
            Identity::Delivery => "delivery",
            Identity::Revocation => "revocation",
            Identity::Audit => "audit",
            Identity::Seod => "seod",
            Identity::Klucznikctl => "klucznikctl",
            Identity::Provisioner => "provisioner",
        }
    }

    pub fn parse(name: &str) -> Option<Identity> {
        Identity::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The prefix of this identity's reply subjects (`ConnectOptions::custom_inbox_prefix`).
    pub fn inbox_prefix(self) -> String {
        format!("_INBOX_{}", self.name())
    }

    fn is_service(self) -> bool {
        matches!(
            self,
            Identity::Intake
                | Identity::Accounts
                | Identity::Delivery
                | Identity::Revocation
                | Identity::Audit
        )
    }
}

/// What an identity may publish and subscribe to; `allow_responses` lets it answer a
/// request on the request's reply subject (and nowhere else) once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
    pub allow_responses: bool,
}

/// The JetStream API a durable consumer's owner needs, and nothing of another's consumer.
fn durable_consumer_api(stream: &str, durable: &str) -> Vec<String> {
    vec![
        format!("$JS.API.CONSUMER.CREATE.{stream}.{durable}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.{durable}.>"),
        format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}"),
        format!("$JS.API.CONSUMER.INFO.{stream}.{durable}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"),
        format!("$JS.ACK.{stream}.{durable}.>"),
    ]
}

/// What a reader of a whole stream through short-lived (ordered) consumers needs.
fn stream_reader_api(stream: &StreamSpec) -> Vec<String> {
    let s = stream.name;
    vec![
        format!("$JS.API.STREAM.INFO.{s}"),
        format!("$JS.API.CONSUMER.CREATE.{s}"),
        format!("$JS.API.CONSUMER.CREATE.{s}.>"),
        format!("$JS.API.CONSUMER.INFO.{s}.>"),
        format!("$JS.API.CONSUMER.DELETE.{s}.>"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{s}.>"),
    ]
}

fn owned_consumers(identity: Identity) -> Vec<ConsumerSpec> {
    let mut all = consumers::SERVICES.to_vec();
    all.extend_from_slice(consumers::AUDIT);
    all.retain(|c| c.service == identity.name());
    all
}

pub fn permissions(identity: Identity) -> Permissions {
    let inbox = format!("{}.>", identity.inbox_prefix());
    let mut publish: Vec<String> = Vec::new();
    let mut subscribe = vec![inbox];
    let mut allow_responses = false;
    if identity.is_service() {
        let name = identity.name();
        publish.push(format!("{name}.>"));
        publish.push(format!("{}.{name}.>", subjects::DEAD_LETTER_PREFIX));
        // Reading a stream's configuration: a service checks at start that its streams exist.
        for stream in streams::ALL {
            publish.push(format!("$JS.API.STREAM.INFO.{}", stream.name));
        }
        publish.push("$JS.API.INFO".to_owned());
        for consumer in owned_consumers(identity) {
            publish.extend(durable_consumer_api(consumer.stream.name, consumer.durable));
        }
    }
    match identity {
        Identity::Accounts => {
            publish.push(subjects::CREDENTIALS_ALL.to_owned());
        }
        Identity::Intake => {
            publish.push(subjects::SEOD_STATUS_ALL.to_owned());
            subscribe.push(subjects::QUERY_INTAKE_CASE.to_owned());
            allow_responses = true;
        }
        Identity::Audit => {
            // The newest checkpoint kept on its own stream, read back at verification.
            let audit = streams::AUDIT.name;
            publish.push(format!("$JS.API.STREAM.MSG.GET.{audit}"));
            publish.push(format!("$JS.API.DIRECT.GET.{audit}"));
            publish.push(format!("$JS.API.DIRECT.GET.{audit}.>"));
        }
        Identity::Seod => {
            publish.push(subjects::SEOD_FORMS_ALL.to_owned());
            publish.extend(stream_reader_api(&streams::SEOD_STATUS));
            subscribe.push(subjects::SEOD_STATUS_ALL.to_owned());
        }
        Identity::Klucznikctl => {
            // `submit` files a form as SEOD would and follows its statuses; `status` asks intake.
            publish.push(subjects::SEOD_FORMS_ALL.to_owned());
            publish.extend(stream_reader_api(&streams::SEOD_STATUS));
            publish.push(subjects::QUERY_INTAKE_CASE.to_owned());
            let audit = streams::AUDIT.name;
            publish.push(format!("$JS.API.STREAM.INFO.{audit}"));
            publish.push(format!("$JS.API.STREAM.MSG.GET.{audit}"));
            publish.push(format!("$JS.API.DIRECT.GET.{audit}.>"));
        }
        Identity::Provisioner => {
            publish = vec![">".to_owned()];
            subscribe = vec![">".to_owned()];
        }
        _ => {}
    }
    Permissions {
        publish,
        subscribe,
        allow_responses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may_publish(identity: Identity, subject: &str) -> bool {
        permissions(identity)
            .publish
            .iter()
            .any(|pattern| matches(pattern, subject))
    }

    /// NATS subject matching: `*` one token, `>` the rest.
    fn matches(pattern: &str, subject: &str) -> bool {
        let mut p = pattern.split('.');
        let mut s = subject.split('.');
        loop {
            match (p.next(), s.next()) {
                (Some(">"), Some(_)) => return true,
                (Some("*"), Some(_)) => {}
                (Some(a), Some(b)) if a == b => {}
                (None, None) => return true,
                _ => return false,
            }
        }
    }

    #[test]
    fn only_accounts_may_publish_credentials() {
        for identity in Identity::ALL {
            let expected = matches!(identity, Identity::Accounts | Identity::Provisioner);
            assert_eq!(
                may_publish(identity, subjects::ACCOUNTS_CREDENTIAL_ISSUED),
                expected,
                "{identity:?}"
            );
        }
    }

    #[test]
    fn only_intake_may_ask_for_a_realisation() {
        for identity in Identity::ALL {
            let expected = matches!(identity, Identity::Intake | Identity::Provisioner);
            assert_eq!(
                may_publish(identity, subjects::INTAKE_CASE_REALISATION_REQUESTED),
                expected,
                "{identity:?}"
            );
        }
    }

    #[test]
    fn seod_publishes_forms_and_reads_only_statuses() {
        let seod = permissions(Identity::Seod);
        assert!(may_publish(
            Identity::Seod,
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET
        ));
        assert!(!may_publish(Identity::Seod, "seod.status.x"));
        assert!(!may_publish(
            Identity::Seod,
            "$JS.API.STREAM.CREATE.SEOD_FORMS"
        ));
        assert!(!may_publish(
            Identity::Seod,
            "$JS.API.CONSUMER.MSG.NEXT.CREDENTIALS.delivery-credentials"
        ));
        assert_eq!(
            seod.subscribe,
            vec!["_INBOX_seod.>".to_owned(), "seod.status.>".to_owned()]
        );
    }

    #[test]
    fn no_service_may_create_streams_or_fetch_from_another_services_consumer() {
        for identity in Identity::ALL.into_iter().filter(|i| i.is_service()) {
            assert!(!may_publish(identity, "$JS.API.STREAM.CREATE.ACCOUNTS"));
            assert!(!may_publish(identity, "$JS.API.STREAM.UPDATE.ACCOUNTS"));
            assert!(!may_publish(identity, "$JS.API.STREAM.DELETE.ACCOUNTS"));
            let theirs = identity != Identity::Delivery;
            assert_eq!(
                may_publish(
                    identity,
                    "$JS.API.CONSUMER.MSG.NEXT.CREDENTIALS.delivery-credentials"
                ),
                !theirs,
                "{identity:?}"
            );
        }
    }

    #[test]
    fn every_identity_reads_replies_only_under_its_own_inbox_prefix() {
        for identity in Identity::ALL
            .into_iter()
            .filter(|i| *i != Identity::Provisioner)
        {
            let subscribe = permissions(identity).subscribe;
            assert!(subscribe.contains(&format!("_INBOX_{}.>", identity.name())));
            assert!(!subscribe.iter().any(|s| s == "_INBOX.>" || s == ">"));
        }
    }
}
