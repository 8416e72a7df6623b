//! Preparing a case's letter, the same way for the e-mail and for the desk: the sealed copy
//! is opened only for what this row will act on, its login must be the case's, and the
//! letter's content is made from it. Nothing is written; the content holds the starting
//! password and is wiped when dropped.

use contracts::forms::Procedure;

use crate::domain::credentials::{SealKeys, open_credentials};
use crate::letter::{AccountKind, LetterContent, PersonName};
use crate::store::deliveries::DeliveryRow;

/// Why a row's sealed copy gives no letter (technical; each caller tells its reader why).
#[derive(Debug, thiserror::Error)]
pub enum Unopenable {
    #[error("no sealed copy of the credentials")]
    NoSealedCopy,
    #[error("{0}")]
    Seal(String),
    #[error("the sealed login differs from the case's login")]
    LoginDiffers,
}

/// The letter's content for `row`, from its sealed copy.
pub fn letter_content(keys: &SealKeys, row: &DeliveryRow) -> Result<LetterContent, Unopenable> {
    let sealed = row
        .sealed_credentials
        .as_deref()
        .ok_or(Unopenable::NoSealedCopy)?;
    let credentials = open_credentials(keys, sealed, &row.binding())
        .map_err(|e| Unopenable::Seal(e.to_string()))?;
    if credentials.login != row.login {
        return Err(Unopenable::LoginDiffers);
    }
    let person = match (&row.first_name, &row.last_name) {
        (Some(first_name), Some(last_name)) => Some(PersonName {
            first_name: first_name.clone(),
            last_name: last_name.clone(),
        }),
        _ => None,
    };
    Ok(LetterContent {
        institution_name: row.institution_name.clone(),
        person,
        login: credentials.login,
        starting_password: credentials.starting_password,
        portal_url: row.portal_url.clone(),
        expires_at: row.expires_at,
        case_number: row.case_number.clone(),
        account: match row.procedure {
            Procedure::Zszo05 => AccountKind::ZszoUser,
            Procedure::Pzo01 => AccountKind::PzoAdministrator,
        },
    })
}
