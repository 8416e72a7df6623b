//! SEOD forms: the wire types (what SEOD sends, with their JSON Schema) and the parse
//! that turns one into a valid request or a rejection naming the field and the reason.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::seod_status::Rejection;
use crate::subjects;
use crate::values::{DocumentId, Email, Login, PersonName, PhoneNumber, RspoId, ValueError};

/// Which procedure a form starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
pub enum Procedure {
    /// ZSZO-05: a new starting password for a ZSZO user.
    #[serde(rename = "ZSZO-05")]
    Zszo05,
    /// PZO-01: a new password for an institution's PZO administrator account.
    #[serde(rename = "PZO-01")]
    Pzo01,
}

impl Procedure {
    pub fn code(self) -> &'static str {
        match self {
            Self::Zszo05 => "ZSZO-05",
            Self::Pzo01 => "PZO-01",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ZSZO-05" => Some(Self::Zszo05),
            "PZO-01" => Some(Self::Pzo01),
            _ => None,
        }
    }
}

/// How a request reached the department.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestSource {
    /// A form filed in SEOD by the director of a city-run institution.
    #[default]
    Seod,
    /// Registered by an operator: a director who came in person, or (PZO) wrote from the
    /// institution's registered address; for institutions without SEOD access.
    Operator,
}

/// How an operator received a request that did not come through SEOD.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestChannel {
    /// The director came to the department in person.
    #[default]
    InPerson,
    /// (PZO-01 only) The director wrote from the institution's address registered in ODPN;
    /// the outcome is confirmed to that address by e-mail.
    Email,
}

impl RequestChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Email => "email",
        }
    }
}

impl RequestSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seod => "seod",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Seod, Self::Operator]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// Encrypted e-mail to the institution's RSPO address, cipher password by SMS.
    #[default]
    Electronic,
    /// A printed letter collected in person.
    InPerson,
}

impl DeliveryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Electronic => "electronic",
            Self::InPerson => "in_person",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Electronic, Self::InPerson]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// How the starting password was lost, as the requester says (an optional field of every
/// form): the security incident registered with the request is of this kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Lost (a letter or a note gone missing).
    Lost,
    /// Forgotten by the user.
    Forgotten,
    /// Someone else may have learnt or used it.
    UnauthorisedAccess,
    /// The form did not say.
    #[default]
    NotStated,
}

impl LossKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lost => "lost",
            Self::Forgotten => "forgotten",
            Self::UnauthorisedAccess => "unauthorised_access",
            Self::NotStated => "not_stated",
        }
    }

    /// As it reads in an incident's description.
    pub fn polish(self) -> &'static str {
        match self {
            Self::Lost => "utrata",
            Self::Forgotten => "zapomnienie",
            Self::UnauthorisedAccess => "nieuprawniony dostęp",
            Self::NotStated => "nie podano",
        }
    }
}

/// A stored text that names no value of its type (the database's CHECK constraints let
/// none such in).
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not a {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// Lets a service read these straight from a text column (`#[sqlx(try_from = "String")]`).
macro_rules! from_stored_text {
    ($($type:ty => $kind:literal),* $(,)?) => {
        $(impl TryFrom<String> for $type {
            type Error = UnknownValue;
            fn try_from(value: String) -> Result<Self, UnknownValue> {
                <$type>::parse(&value).ok_or(UnknownValue { kind: $kind, value })
            }
        })*
    };
}

from_stored_text! {
    Procedure => "procedure",
    RequestSource => "request source",
    DeliveryMode => "delivery mode",
    crate::seod_status::CaseStatus => "case status",
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionRef {
    /// RSPO number of the institution.
    #[schemars(pattern(r"^[1-9][0-9]{0,8}$"))]
    #[schema(pattern = r"^[1-9][0-9]{0,8}$")]
    pub rspo_id: String,
    #[schemars(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// The director who files the form, as SEOD knows him.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    #[schemars(pattern(r"^[A-Za-z][A-Za-z0-9._-]{2,63}$"))]
    #[schema(pattern = r"^[A-Za-z][A-Za-z0-9._-]{2,63}$")]
    pub login: String,
    #[schemars(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schemars(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
}

/// Contact data the director confirmed in SEOD before filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The institution's official e-mail address in RSPO.
    #[schemars(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub rspo_email: String,
    /// The director's official mobile number (nine digits, optionally +48).
    #[schemars(pattern(r"^[0-9 ()+-]{9,20}$"))]
    #[schema(pattern = r"^[0-9 ()+-]{9,20}$")]
    pub director_mobile: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZszoAccountRef {
    /// Login of the ZSZO user who needs a new starting password.
    #[schemars(pattern(r"^[A-Za-z][A-Za-z0-9._-]{2,63}$"))]
    pub login: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PzoAccountRef {
    /// Identifier of the institution's PZO administrator account.
    #[schemars(pattern(r"^[A-Za-z][A-Za-z0-9._-]{2,63}$"))]
    pub pzo_identifier: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ZszoFormKind {
    #[serde(rename = "zszo.password-reset")]
    ZszoPasswordReset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PzoFormKind {
    #[serde(rename = "pzo.password-reset")]
    PzoPasswordReset,
}

/// SEOD form "Wygenerowanie hasła ZSZO" (procedure ZSZO-05), version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZszoPasswordResetForm {
    pub form: ZszoFormKind,
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(pattern(r"^[A-Za-z0-9_-]{1,64}$"))]
    pub document_id: String,
    pub submitted_at: DateTime<Utc>,
    pub institution: InstitutionRef,
    pub requester: Requester,
    pub contact: Contact,
    pub account: ZszoAccountRef,
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// How the starting password was lost; `not_stated` when left out.
    #[serde(default)]
    pub loss: LossKind,
}

/// SEOD form for a new password of the institution's PZO administrator account
/// (procedure PZO-01), version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PzoPasswordResetForm {
    pub form: PzoFormKind,
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(pattern(r"^[A-Za-z0-9_-]{1,64}$"))]
    pub document_id: String,
    pub submitted_at: DateTime<Utc>,
    pub institution: InstitutionRef,
    pub requester: Requester,
    pub contact: Contact,
    pub account: PzoAccountRef,
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// How the starting password was lost; `not_stated` when left out.
    #[serde(default)]
    pub loss: LossKind,
}

/// A form that passed every check; every field is a parsed value.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordResetRequest {
    pub procedure: Procedure,
    pub source: RequestSource,
    pub document_id: DocumentId,
    pub submitted_at: DateTime<Utc>,
    pub institution_rspo_id: RspoId,
    pub institution_name: String,
    pub requester_login: Login,
    pub requester_first_name: PersonName,
    pub requester_last_name: PersonName,
    pub rspo_email: Email,
    pub director_mobile: PhoneNumber,
    /// The ZSZO login, or the PZO administrator account's identifier.
    pub target_login: Login,
    pub delivery: DeliveryMode,
    pub loss: LossKind,
    /// Where the outcome is confirmed by e-mail: the sender of an e-mailed request.
    pub reply_email: Option<Email>,
}

/// Parses a form published on `subject`. The rejection names the first field at fault.
pub fn parse_form(subject: &str, bytes: &[u8]) -> Result<PasswordResetRequest, Rejection> {
    match subject {
        subjects::SEOD_FORM_ZSZO_PASSWORD_RESET => {
            let f: ZszoPasswordResetForm = decode(bytes)?;
            let parts = Common {
                version: f.version,
                document_id: &f.document_id,
                submitted_at: f.submitted_at,
                institution: &f.institution,
                requester: &f.requester,
                contact: &f.contact,
                delivery: f.delivery,
                loss: f.loss,
            };
            let target = field("account.login", Login::parse(&f.account.login))?;
            parts.into_request(Procedure::Zszo05, target)
        }
        subjects::SEOD_FORM_PZO_PASSWORD_RESET => {
            let f: PzoPasswordResetForm = decode(bytes)?;
            let parts = Common {
                version: f.version,
                document_id: &f.document_id,
                submitted_at: f.submitted_at,
                institution: &f.institution,
                requester: &f.requester,
                contact: &f.contact,
                delivery: f.delivery,
                loss: f.loss,
            };
            let target = field(
                "account.pzo_identifier",
                Login::parse(&f.account.pzo_identifier),
            )?;
            parts.into_request(Procedure::Pzo01, target)
        }
        other => Err(Rejection {
            field: "$".into(),
            code: "unknown_form".into(),
            message: "Nieznany rodzaj formularza.".into(),
            detail: Some(format!("no form is published on subject {other}")),
        }),
    }
}

/// An operator's registration of a request that did not come through SEOD (procedure PZO-01
/// for institutions without SEOD access), checked by the same rules as a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorRequest {
    pub procedure: Procedure,
    pub institution: InstitutionRef,
    pub requester: Requester,
    pub contact: Contact,
    /// The ZSZO login (ZSZO-05) or the PZO administrator account's identifier (PZO-01).
    pub account_login: String,
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// How the starting password was lost; `not_stated` when left out.
    #[serde(default)]
    pub loss: LossKind,
    /// How the request reached the operator; `in_person` when left out.
    #[serde(default)]
    pub channel: RequestChannel,
    /// The address an e-mailed request came from (required for `channel: email`); it must be
    /// the institution's address registered in ODPN, and the confirmation goes back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub sender_email: Option<String>,
}

/// Parses an operator's registration; `document_id` is the id intake gives it.
pub fn parse_operator_request(
    bytes: &[u8],
    document_id: &str,
    received_at: DateTime<Utc>,
) -> Result<PasswordResetRequest, Rejection> {
    let r: OperatorRequest = decode(bytes)?;
    if r.procedure != Procedure::Pzo01 {
        // Seed 001: a director files ZSZO-05 himself, through SEOD; seed 000 is the one
        // procedure the department registers for an institution without SEOD.
        return Err(Rejection {
            field: "procedure".into(),
            code: "zszo_only_through_seod".into(),
            message: "Wniosek ZSZO-05 dyrektor składa wyłącznie przez SEOD; w Wydziale \
                      rejestruje się tylko wnioski PZO-01."
                .into(),
            detail: None,
        });
    }
    let target = field("account_login", Login::parse(&r.account_login))?;
    let parts = Common {
        version: 1,
        document_id,
        submitted_at: received_at,
        institution: &r.institution,
        requester: &r.requester,
        contact: &r.contact,
        delivery: r.delivery,
        loss: r.loss,
    };
    let reply_email = match (r.channel, r.sender_email.as_deref()) {
        (RequestChannel::InPerson, None) => None,
        (RequestChannel::InPerson, Some(_)) => {
            return Err(Rejection {
                field: "sender_email".into(),
                code: "sender_without_email_channel".into(),
                message: "Adres nadawcy podaje się tylko dla wniosku przysłanego e-mailem (channel: email).".into(),
                detail: None,
            });
        }
        (RequestChannel::Email, _) if r.procedure != Procedure::Pzo01 => {
            return Err(Rejection {
                field: "channel".into(),
                code: "email_channel_not_allowed".into(),
                message: "Wniosek przysłany e-mailem przyjmuje się tylko w procedurze PZO-01."
                    .into(),
                detail: None,
            });
        }
        (RequestChannel::Email, None) => {
            return Err(Rejection {
                field: "sender_email".into(),
                code: "missing_field".into(),
                message: "Podaj adres, z którego przyszedł wniosek e-mailem.".into(),
                detail: None,
            });
        }
        (RequestChannel::Email, Some(sender)) => Some(field("sender_email", Email::parse(sender))?),
    };
    let mut request = parts.into_request(r.procedure, target)?;
    request.source = RequestSource::Operator;
    request.reply_email = reply_email;
    Ok(request)
}

/// Where to tell SEOD the outcome of a message: its document id when it has a usable
/// one, otherwise the id it was published with.
pub fn correlation_id(bytes: &[u8], message_id: Option<&str>) -> Option<String> {
    #[derive(Deserialize)]
    struct JustTheId {
        document_id: String,
    }
    serde_json::from_slice::<JustTheId>(bytes)
        .ok()
        .map(|j| j.document_id)
        .filter(|id| subjects::is_subject_token(id))
        .or_else(|| {
            message_id
                .filter(|id| subjects::is_subject_token(id))
                .map(str::to_owned)
        })
}

struct Common<'a> {
    version: u32,
    document_id: &'a str,
    submitted_at: DateTime<Utc>,
    institution: &'a InstitutionRef,
    requester: &'a Requester,
    contact: &'a Contact,
    delivery: DeliveryMode,
    loss: LossKind,
}

impl Common<'_> {
    fn into_request(
        self,
        procedure: Procedure,
        target_login: Login,
    ) -> Result<PasswordResetRequest, Rejection> {
        if self.version != 1 {
            return Err(Rejection {
                field: "version".into(),
                code: "unsupported_version".into(),
                message: "Nieobsługiwana wersja formularza (obsługiwana jest wersja 1).".into(),
                detail: None,
            });
        }
        let institution_name = self.institution.name.trim();
        if institution_name.is_empty() || institution_name.chars().count() > 200 {
            return Err(Rejection {
                field: "institution.name".into(),
                code: "invalid_institution_name".into(),
                message: "Nazwa placówki nie może być pusta ani dłuższa niż 200 znaków.".into(),
                detail: None,
            });
        }
        Ok(PasswordResetRequest {
            procedure,
            source: RequestSource::Seod,
            document_id: field("document_id", DocumentId::parse(self.document_id))?,
            submitted_at: self.submitted_at,
            institution_rspo_id: field(
                "institution.rspo_id",
                RspoId::parse(&self.institution.rspo_id),
            )?,
            institution_name: institution_name.to_owned(),
            requester_login: field("requester.login", Login::parse(&self.requester.login))?,
            requester_first_name: field(
                "requester.first_name",
                PersonName::parse(&self.requester.first_name),
            )?,
            requester_last_name: field(
                "requester.last_name",
                PersonName::parse(&self.requester.last_name),
            )?,
            rspo_email: field("contact.rspo_email", Email::parse(&self.contact.rspo_email))?,
            director_mobile: field(
                "contact.director_mobile",
                PhoneNumber::parse(&self.contact.director_mobile),
            )?,
            target_login,
            delivery: self.delivery,
            loss: self.loss,
            reply_email: None,
        })
    }
}

fn field<T>(path: &str, parsed: Result<T, ValueError>) -> Result<T, Rejection> {
    parsed.map_err(|e| Rejection {
        field: path.to_owned(),
        code: e.code.to_owned(),
        message: e.message.to_owned(),
        detail: None,
    })
}

/// Decodes JSON, naming the field at fault in the words of the person who filed it.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Rejection> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if result.is_ok() {
        de.end().map_err(|e| Rejection {
            field: "$".into(),
            code: "malformed_json".into(),
            message: "Treść formularza nie jest poprawnym dokumentem JSON.".into(),
            detail: Some(e.to_string()),
        })?;
    }
    result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = inner.to_string();
        let (field, code, message) = if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            (
                "$".to_owned(),
                "malformed_json",
                "Treść formularza nie jest poprawnym dokumentem JSON.",
            )
        } else if let Some(name) = quoted_after(&detail, "missing field `") {
            (
                join_path(&path, name),
                "missing_field",
                "Brak wymaganego pola.",
            )
        } else if detail.starts_with("unknown field") {
            (path, "unknown_field", "Nieznane pole w formularzu.")
        } else if detail.starts_with("unknown variant") {
            (path, "invalid_value", "Niedozwolona wartość pola.")
        } else if detail.starts_with("invalid type") {
            (path, "invalid_type", "Pole ma niepoprawny typ wartości.")
        } else {
            (path, "invalid_value", "Pole ma niepoprawną wartość.")
        };
        Rejection {
            field: if field == "." || field.is_empty() {
                "$".into()
            } else {
                field
            },
            code: code.to_owned(),
            message: message.to_owned(),
            detail: Some(detail),
        }
    })
}

fn quoted_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(prefix)?;
    rest.split('`').next()
}

fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "." {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn operator_pzo(extra: Value) -> Value {
        let mut v = json!({
            "procedure": "PZO-01",
            "institution": {"rspo_id": "54321", "name": "Niepubliczne Przedszkole Słoneczko"},
            "requester": {"login": "a.wozniak", "first_name": "Anna", "last_name": "Woźniak"},
            "contact": {"rspo_email": "sloneczko@example.pl", "director_mobile": "600100200"},
            "account_login": "pzo.54321",
        });
        for (k, value) in extra.as_object().unwrap() {
            v[k] = value.clone();
        }
        v
    }

    fn operator(v: &Value) -> Result<PasswordResetRequest, Rejection> {
        parse_operator_request(v.to_string().as_bytes(), "OP-1", DateTime::UNIX_EPOCH)
    }

    #[test]
    fn an_operator_request_in_person_has_no_reply_address() {
        let r = operator(&operator_pzo(json!({}))).unwrap();
        assert_eq!(r.source, RequestSource::Operator);
        assert_eq!(r.reply_email, None);
    }

    #[test]
    fn an_e_mailed_pzo_request_is_answered_to_its_sender() {
        let r = operator(&operator_pzo(
            json!({"channel": "email", "sender_email": "Sekretariat@Sloneczko.example.pl"}),
        ))
        .unwrap();
        assert_eq!(
            r.reply_email.map(|e| e.as_str().to_owned()).as_deref(),
            Some("sekretariat@sloneczko.example.pl")
        );
    }

    #[test]
    fn an_e_mailed_request_needs_its_sender_and_procedure_pzo() {
        let no_sender = operator(&operator_pzo(json!({"channel": "email"}))).unwrap_err();
        assert_eq!(
            (no_sender.field.as_str(), no_sender.code.as_str()),
            ("sender_email", "missing_field")
        );
        let zszo = operator(&operator_pzo(json!({
            "procedure": "ZSZO-05", "channel": "email", "sender_email": "a@b.pl"
        })))
        .unwrap_err();
        assert_eq!(
            (zszo.field.as_str(), zszo.code.as_str()),
            ("procedure", "zszo_only_through_seod")
        );
        let stray = operator(&operator_pzo(json!({"sender_email": "a@b.pl"}))).unwrap_err();
        assert_eq!(stray.code, "sender_without_email_channel");
        let bad = operator(&operator_pzo(
            json!({"channel": "email", "sender_email": "nie-adres"}),
        ))
        .unwrap_err();
        assert_eq!(bad.field, "sender_email");
        let unknown = operator(&operator_pzo(json!({"channel": "fax"}))).unwrap_err();
        assert_eq!(
            (unknown.field.as_str(), unknown.code.as_str()),
            ("channel", "invalid_value")
        );
    }

    fn valid_zszo() -> Value {
        json!({
            "form": "zszo.password-reset",
            "version": 1,
            "document_id": "SEOD-2026-000123",
            "submitted_at": "2026-11-23T09:15:00Z",
            "institution": {"rspo_id": "12345", "name": "Szkoła Podstawowa nr 7 w Krakowie"},
            "requester": {"login": "jkowalski", "first_name": "Jan", "last_name": "Kowalski"},
            "contact": {"rspo_email": "sp7@edu.krakow.pl", "director_mobile": "+48 600 100 200"},
            "account": {"login": "anowak"},
            "delivery": "electronic"
        })
    }

    fn parse(v: &Value) -> Result<PasswordResetRequest, Rejection> {
        parse_form(
            subjects::SEOD_FORM_ZSZO_PASSWORD_RESET,
            v.to_string().as_bytes(),
        )
    }

    #[test]
    fn a_valid_zszo_form_becomes_a_request() {
        let r = parse(&valid_zszo()).unwrap();
        assert_eq!(r.procedure, Procedure::Zszo05);
        assert_eq!(r.target_login.as_str(), "anowak");
        assert_eq!(r.director_mobile.as_str(), "48600100200");
    }

    #[test]
    fn a_missing_nested_field_is_named_with_its_path() {
        let mut v = valid_zszo();
        v["contact"]
            .as_object_mut()
            .unwrap()
            .remove("director_mobile");
        let r = parse(&v).unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.code.as_str()),
            ("contact.director_mobile", "missing_field")
        );
    }

    #[test]
    fn an_unknown_field_is_refused_by_name() {
        let mut v = valid_zszo();
        v["account"]["password"] = json!("chosen-by-me");
        let r = parse(&v).unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.code.as_str()),
            ("account.password", "unknown_field")
        );
    }

    #[test]
    fn a_wrong_type_is_named() {
        let mut v = valid_zszo();
        v["institution"]["rspo_id"] = json!(12345);
        let r = parse(&v).unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.code.as_str()),
            ("institution.rspo_id", "invalid_type")
        );
    }

    #[test]
    fn an_invalid_value_gets_the_value_reason() {
        let mut v = valid_zszo();
        v["contact"]["director_mobile"] = json!("12");
        let r = parse(&v).unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.code.as_str()),
            ("contact.director_mobile", "invalid_phone")
        );
    }

    #[test]
    fn malformed_json_is_refused_as_a_whole() {
        let r = parse_form(subjects::SEOD_FORM_ZSZO_PASSWORD_RESET, b"{\"form\": ").unwrap_err();
        assert_eq!((r.field.as_str(), r.code.as_str()), ("$", "malformed_json"));
        let trailing = format!("{} trailing", valid_zszo());
        let r =
            parse_form(subjects::SEOD_FORM_ZSZO_PASSWORD_RESET, trailing.as_bytes()).unwrap_err();
        assert_eq!(r.field, "$");
    }

    #[test]
    fn a_form_of_the_wrong_kind_on_a_subject_is_refused() {
        let mut v = valid_zszo();
        v["form"] = json!("pzo.password-reset");
        let r = parse(&v).unwrap_err();
        assert_eq!(
            (r.field.as_str(), r.code.as_str()),
            ("form", "invalid_value")
        );
    }

    #[test]
    fn version_two_is_not_supported() {
        let mut v = valid_zszo();
        v["version"] = json!(2);
        assert_eq!(parse(&v).unwrap_err().code, "unsupported_version");
    }

    #[test]
    fn the_correlation_prefers_the_document_id_then_the_message_id() {
        assert_eq!(
            correlation_id(valid_zszo().to_string().as_bytes(), Some("m1")).as_deref(),
            Some("SEOD-2026-000123")
        );
        assert_eq!(
            correlation_id(b"garbage", Some("m-1")).as_deref(),
            Some("m-1")
        );
        assert_eq!(correlation_id(b"{\"document_id\":\"a.b\"}", None), None);
    }
}
