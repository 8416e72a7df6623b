//! JetStream streams and durable consumers, declared once for every service.

use std::time::Duration;

use crate::subjects;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSpec {
    pub name: &'static str,
    pub subjects: &'static [&'static str],
    pub description: &'static str,
    pub max_age: Duration,
    /// A message is gone once its one consumer acknowledged it (JetStream's work-queue
    /// retention), or at `max_age`.
    pub work_queue: bool,
}

const DAY: u64 = 24 * 60 * 60;

pub const SEOD_FORMS: StreamSpec = StreamSpec {
    name: "SEOD_FORMS",
    subjects: &[subjects::SEOD_FORMS_ALL],
    description: "Forms published by SEOD",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const SEOD_STATUS: StreamSpec = StreamSpec {
    name: "SEOD_STATUS",
    subjects: &[subjects::SEOD_STATUS_ALL],
    description: "Statuses of SEOD documents, for SEOD",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const INTAKE: StreamSpec = StreamSpec {
    name: "INTAKE",
    subjects: &[subjects::INTAKE_ALL],
    description: "Events of the intake service",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const ACCOUNTS: StreamSpec = StreamSpec {
    name: "ACCOUNTS",
    subjects: &[subjects::ACCOUNTS_ALL],
    description: "Events of the accounts service",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const DELIVERY: StreamSpec = StreamSpec {
    name: "DELIVERY",
    subjects: &[subjects::DELIVERY_ALL],
    description: "Events of the delivery service",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const REVOCATION: StreamSpec = StreamSpec {
    name: "REVOCATION",
    subjects: &[subjects::REVOCATION_ALL],
    description: "Events of the revocation service",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};
pub const DEAD_LETTER: StreamSpec = StreamSpec {
    name: "DEAD_LETTER",
    subjects: &[subjects::DEAD_LETTER_ALL],
    description: "Messages that kept failing, with their error",
    max_age: Duration::from_secs(365 * DAY),
    work_queue: false,
};

/// Sealed credentials on their way from accounts to delivery, and nowhere else: gone from
/// the bus once delivery has taken them (work-queue retention), or when the longest
/// starting password would have expired. Only delivery reads it; audit records the
/// `accounts.credential.issued` announcement instead, which carries no sealed copy.
pub const CREDENTIALS: StreamSpec = StreamSpec {
    name: "CREDENTIALS",
    subjects: &[subjects::CREDENTIALS_ALL],
    description: "Sealed credentials for delivery, until it takes them",
    max_age: Duration::from_secs(8 * DAY),
    work_queue: true,
};

/// audit's own stream: its signed checkpoints, the record's anchor outside its database.
pub const AUDIT: StreamSpec = StreamSpec {
    name: "AUDIT",
    subjects: &[subjects::AUDIT_ALL],
    description: "Signed checkpoints of the audit chain",
    max_age: Duration::from_secs(10 * 365 * DAY),
    work_queue: false,
};

pub const ALL: &[StreamSpec] = &[
    SEOD_FORMS,
    SEOD_STATUS,
    INTAKE,
    ACCOUNTS,
    DELIVERY,
    REVOCATION,
    DEAD_LETTER,
    AUDIT,
    CREDENTIALS,
];

/// A durable pull consumer a service owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerSpec {
    pub service: &'static str,
    pub durable: &'static str,
    pub stream: StreamSpec,
    pub filter_subjects: &'static [&'static str],
    /// How many messages this consumer may handle at once; 1 keeps order.
    pub concurrency: usize,
    /// Handle each fetched batch in one transaction (one commit, one WAL flush, for what
    /// is waiting at once); a batch that fails is retried message by message. For ordered
    /// consumers whose messages are cheap to handle; not where the work runs in parallel.
    pub batched: bool,
}

pub mod consumers {
    use super::*;

    pub const INTAKE_FORMS: ConsumerSpec = ConsumerSpec {
        service: "intake",
        durable: "intake-forms",
        stream: SEOD_FORMS,
        filter_subjects: &[subjects::SEOD_FORMS_ALL],
        concurrency: 1,
        batched: true,
    };
    pub const INTAKE_REQUEST_CHECKS: ConsumerSpec = ConsumerSpec {
        service: "intake",
        durable: "intake-request-checks",
        stream: ACCOUNTS,
        filter_subjects: &[subjects::ACCOUNTS_ALL],
        concurrency: 1,
        batched: true,
    };
    pub const INTAKE_DELIVERIES: ConsumerSpec = ConsumerSpec {
        service: "intake",
        durable: "intake-deliveries",
        stream: DELIVERY,
        filter_subjects: &[subjects::DELIVERY_ALL],
        concurrency: 1,
        batched: true,
    };
    pub const ACCOUNTS_CASES: ConsumerSpec = ConsumerSpec {
        service: "accounts",
        durable: "accounts-cases",
        stream: INTAKE,
        // One wildcard rather than two subjects: servers before 2.10 take a single filter.
        filter_subjects: &["intake.case.>"],
        // Cases are independent, and a case's realisation comes only after its check went
        // round through intake; argon2id hashes then use every core.
        concurrency: 4,
        batched: false,
    };
    pub const DELIVERY_CREDENTIALS: ConsumerSpec = ConsumerSpec {
        service: "delivery",
        durable: "delivery-credentials",
        stream: CREDENTIALS,
        filter_subjects: &[
            subjects::CREDENTIALS_SEALED,
            subjects::CREDENTIALS_EMAIL_CONFIRMATION,
        ],
        concurrency: 1,
        batched: true,
    };
    pub const DELIVERY_REPLIES: ConsumerSpec = ConsumerSpec {
        service: "delivery",
        durable: "delivery-replies",
        stream: INTAKE,
        filter_subjects: &[subjects::INTAKE_REPLY_REQUESTED],
        concurrency: 1,
        batched: true,
    };
    /// Password changes, for the notice (without any secret) to the user's e-mail address;
    /// accounts activated, for the notice to the local administrator who created them.
    pub const DELIVERY_NOTICES: ConsumerSpec = ConsumerSpec {
        service: "delivery",
        durable: "delivery-notices",
        stream: ACCOUNTS,
        filter_subjects: &[
            subjects::ACCOUNTS_PASSWORD_CHANGED,
            subjects::ACCOUNTS_ACCOUNT_ACTIVATED,
        ],
        concurrency: 1,
        batched: true,
    };
    /// The central system's side of the communication panel: what local databases sent.
    pub const REVOCATION_CENTRAL: ConsumerSpec = ConsumerSpec {
        service: "revocation",
        durable: "revocation-central",
        stream: REVOCATION,
        filter_subjects: &[subjects::REVOCATION_FORM_SENT],
        concurrency: 1,
        batched: true,
    };

    const fn audit(durable: &'static str, stream: StreamSpec) -> ConsumerSpec {
        ConsumerSpec {
            service: "audit",
            durable,
            stream,
            filter_subjects: stream.subjects,
            concurrency: 1,
            batched: true,
        }
    }

    const fn sessions(service: &'static str, durable: &'static str) -> ConsumerSpec {
        ConsumerSpec {
            service,
            durable,
            stream: ACCOUNTS,
            filter_subjects: &[subjects::ACCOUNTS_SESSIONS_ENDED],
            concurrency: 1,
            batched: true,
        }
    }

    /// Each service (but accounts, which keeps the sessions) learns of ended sessions, so a
    /// token of one is refused at once (`kit::auth`).
    pub const INTAKE_SESSIONS: ConsumerSpec = sessions("intake", "intake-sessions");
    pub const DELIVERY_SESSIONS: ConsumerSpec = sessions("delivery", "delivery-sessions");
    pub const REVOCATION_SESSIONS: ConsumerSpec = sessions("revocation", "revocation-sessions");
    pub const AUDIT_SESSIONS: ConsumerSpec = sessions("audit", "audit-sessions");

    pub fn sessions_of(service: &str) -> Option<ConsumerSpec> {
        [
            INTAKE_SESSIONS,
            DELIVERY_SESSIONS,
            REVOCATION_SESSIONS,
            AUDIT_SESSIONS,
        ]
        .into_iter()
        .find(|c| c.service == service)
    }

    /// Every durable consumer but audit's; the bus's permissions are derived from these.
    pub const SERVICES: &[ConsumerSpec] = &[
        INTAKE_FORMS,
        INTAKE_REQUEST_CHECKS,
        INTAKE_DELIVERIES,
        ACCOUNTS_CASES,
        DELIVERY_CREDENTIALS,
        DELIVERY_REPLIES,
        DELIVERY_NOTICES,
        REVOCATION_CENTRAL,
        INTAKE_SESSIONS,
        DELIVERY_SESSIONS,
        REVOCATION_SESSIONS,
        AUDIT_SESSIONS,
    ];

    /// audit reads every stream, each through its own consumer, in stream order.
    pub const AUDIT: &[ConsumerSpec] = &[
        audit("audit-seod-forms", SEOD_FORMS),
        audit("audit-seod-status", SEOD_STATUS),
        audit("audit-intake", INTAKE),
        audit("audit-accounts", ACCOUNTS),
        audit("audit-delivery", DELIVERY),
        audit("audit-revocation", REVOCATION),
        audit("audit-dead-letter", DEAD_LETTER),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_delivery_reads_the_sealed_credentials() {
        let readers: Vec<_> = consumers::SERVICES
            .iter()
            .chain(consumers::AUDIT)
            .filter(|c| c.stream.name == CREDENTIALS.name)
            .map(|c| c.service)
            .collect();
        assert_eq!(readers, ["delivery"]);
    }

    #[test]
    fn no_two_streams_claim_the_same_subject() {
        let mut all: Vec<_> = ALL.iter().flat_map(|s| s.subjects.iter()).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn audit_reads_every_stream_but_its_own_and_the_sealed_credentials() {
        for stream in ALL
            .iter()
            .filter(|s| s.name != AUDIT.name && s.name != CREDENTIALS.name)
        {
            assert!(
                consumers::AUDIT
                    .iter()
                    .any(|c| c.stream.name == stream.name),
                "{}",
                stream.name
            );
        }
    }
}
