//! delivery's rules without I/O: the states a delivery goes through, the recipient's mobile
//! number, the texts of the e-mail, the SMS, the password-change notice and the reply to an
//! e-mailed request, how long to wait before another try, opening the sealed credentials,
//! and what an in-person collection must record.

pub mod backoff;
pub mod cipher;
pub mod collection;
pub mod credentials;
pub mod msisdn;
pub mod replies;
pub mod status;
pub mod texts;

use serde::Deserialize;

/// How the encrypted letter travels: an AES-256 PDF, or the plain PDF inside an AES-256 ZIP
/// (for institutions whose mail filters or readers refuse encrypted PDFs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Package {
    #[default]
    Pdf,
    Zip,
}

impl Package {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Zip => "zip",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Zip => "application/zip",
        }
    }
}
