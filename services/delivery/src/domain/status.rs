//! Where a delivery stands.
//!
//! ```text
//! electronic:  pending ──e-mail accepted──▶ mail_sent ──SMS accepted──▶ completed
//!                 │  ▲                        │   │
//!                 │  └── passing failure ─────┘   └─ (retry: SMS again, or e-mail + SMS anew)
//!                 └──────── permanent failure / attempts exhausted ──▶ failed
//!              pending / mail_sent ── starting password expired ──▶ expired
//! in person:   awaiting_collection ──▶ collected | expired
//! ```

/// The `status` column of `deliveries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Electronic delivery waiting for its e-mail (first try or a retry).
    Pending,
    /// The SMTP relay accepted the e-mail; the SMS with the cipher password is still owed.
    MailSent,
    /// E-mail and SMS both went out; the sealed copy is wiped.
    Completed,
    /// Delivery gave up; the sealed copy is kept until an administrator decides.
    Failed,
    /// A printed letter waits to be collected in person.
    AwaitingCollection,
    /// The printed letter was collected.
    Collected,
    /// The starting password expired before it could be delivered or collected.
    Expired,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::MailSent => "mail_sent",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::AwaitingCollection => "awaiting_collection",
            Self::Collected => "collected",
            Self::Expired => "expired",
        }
    }

    /// The state as the operator reads it.
    pub fn polish(self) -> &'static str {
        match self {
            Self::Pending => "czeka na wysłanie",
            Self::MailSent => "wysłano e-mail, SMS w drodze",
            Self::Completed => "doręczono",
            Self::Failed => "nie udało się doręczyć",
            Self::AwaitingCollection => "czeka na odbiór osobisty",
            Self::Collected => "odebrano",
            Self::Expired => "wygasło",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "mail_sent" => Self::MailSent,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "awaiting_collection" => Self::AwaitingCollection,
            "collected" => Self::Collected,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = contracts::forms::UnknownValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or(contracts::forms::UnknownValue {
            kind: "delivery status",
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_column_value() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::MailSent,
            DeliveryStatus::Completed,
            DeliveryStatus::Failed,
            DeliveryStatus::AwaitingCollection,
            DeliveryStatus::Collected,
            DeliveryStatus::Expired,
        ] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("sent"), None);
    }
}
