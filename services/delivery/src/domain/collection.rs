//! Collecting a printed letter in person (procedure A step 5): who came for it (the
//! requester, the user whose account it is, or a proxy with the written authorisation
//! F-01) and which identity document they showed. Of the document only its kind and its
//! last four characters are kept, never the whole number.
//!
//! The operator's request is parsed here, at the edge: every fault names the field (as a
//! JSON path inside the body) with a Polish sentence, and never repeats the value.

use serde_json::{Map, Value};

/// Who collected the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    /// The director who filed the request.
    Requester,
    /// The person whose account it is.
    User,
    /// Someone authorised in writing (form F-01).
    Proxy,
}

impl Collector {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::User => "user",
            Self::Proxy => "proxy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "requester" => Self::Requester,
            "user" => Self::User,
            "proxy" => Self::Proxy,
            _ => return None,
        })
    }
}

/// The kind of identity document shown at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDocumentKind {
    DowodOsobisty,
    Paszport,
    Other,
}

impl IdDocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DowodOsobisty => "dowod_osobisty",
            Self::Paszport => "paszport",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "dowod_osobisty" => Self::DowodOsobisty,
            "paszport" => Self::Paszport,
            "other" => Self::Other,
            _ => return None,
        })
    }
}

/// A valid collection, as the operator recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub collected_by: Collector,
    /// The collecting person's first and last name, white space tidied.
    pub person_name: String,
    /// The F-01 authorisation's reference: present exactly for a proxy.
    pub f01_reference: Option<String>,
    pub id_document_kind: IdDocumentKind,
    /// The last four characters of the document's number, upper case.
    pub id_document_last4: String,
}

/// What is wrong with a request: the field (a JSON path, `$` for the whole body) and a
/// Polish sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Pole `{field}`: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn fault(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

pub const PERSON_NAME_MAX: usize = 200;
pub const F01_REFERENCE_MAX: usize = 100;

const FIELDS: &[&str] = &[
    "collected_by",
    "person_name",
    "f01_reference",
    "id_document",
];
const DOCUMENT_FIELDS: &[&str] = &["type", "last4"];

/// Parses the body of `POST /api/collections/{case}`.
pub fn parse_collection(body: &[u8]) -> Result<Collection, FieldError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        fault(
            "$",
            "treść żądania nie jest poprawnym dokumentem JSON; oczekiwano obiektu z polami \
             collected_by, person_name, f01_reference (tylko dla pełnomocnika) i id_document.",
        )
    })?;
    let Value::Object(object) = value else {
        return Err(fault("$", "treść żądania musi być obiektem JSON."));
    };
    no_unknown_fields(&object, FIELDS, "")?;

    let collected_by = match object.get("collected_by") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Collector::parse(s.trim()),
        Some(_) => None,
    }
    .ok_or_else(|| {
        fault(
            "collected_by",
            "podaj, kto odbiera dane: requester (wnioskodawca – dyrektor placówki), user \
             (użytkownik, którego dotyczy konto) albo proxy (pełnomocnik z upoważnieniem F-01).",
        )
    })?;

    let person_name = text(&object, "person_name", "person_name", PERSON_NAME_MAX)?
        .ok_or_else(|| fault("person_name", "podaj imię i nazwisko osoby odbierającej."))?;

    let f01_reference = text(&object, "f01_reference", "f01_reference", F01_REFERENCE_MAX)?;
    match (collected_by, &f01_reference) {
        (Collector::Proxy, None) => {
            return Err(fault(
                "f01_reference",
                "pełnomocnik musi okazać pisemne upoważnienie (formularz F-01); podaj jego \
                 numer lub znak.",
            ));
        }
        (Collector::Requester | Collector::User, Some(_)) => {
            return Err(fault(
                "f01_reference",
                "upoważnienie F-01 podaje się tylko przy odbiorze przez pełnomocnika \
                 (collected_by = proxy); wnioskodawca i użytkownik go nie potrzebują.",
            ));
        }
        _ => {}
    }

    let document = match object.get("id_document") {
        Some(Value::Object(document)) => document,
        _ => {
            return Err(fault(
                "id_document",
                "podaj okazany dokument tożsamości: obiekt z polami type i last4.",
            ));
        }
    };
    no_unknown_fields(document, DOCUMENT_FIELDS, "id_document.")?;
    let id_document_kind = match document.get("type") {
        Some(Value::String(s)) => IdDocumentKind::parse(s.trim()),
        _ => None,
    }
    .ok_or_else(|| {
        fault(
            "id_document.type",
            "podaj rodzaj okazanego dokumentu tożsamości: dowod_osobisty, paszport albo other.",
        )
    })?;
    let id_document_last4 = match document.get("last4") {
        Some(Value::String(s)) => last4(s.trim()),
        _ => None,
    }
    .ok_or_else(|| {
        fault(
            "id_document.last4",
            "podaj dokładnie cztery ostatnie znaki numeru dokumentu (litery lub cyfry); \
             całego numeru nie zapisujemy.",
        )
    })?;

    Ok(Collection {
        collected_by,
        person_name,
        f01_reference,
        id_document_kind,
        id_document_last4,
    })
}

/// Refuses a field the request does not know: a whole document number sent under another
/// name would otherwise pass unnoticed (it is not stored either way).
fn no_unknown_fields(
    object: &Map<String, Value>,
    known: &[&str],
    prefix: &str,
) -> Result<(), FieldError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(fault(
            &format!("{prefix}{unknown}"),
            format!("nieznane pole; dozwolone są tylko: {}.", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// An optional free-text field: absent, null or blank is `None`; runs of white space become
/// one space; control characters and over-long values are refused.
fn text(
    object: &Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let raw = match object.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(fault(field, "oczekiwano tekstu.")),
    };
    if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(fault(field, "tekst zawiera niedozwolone znaki sterujące."));
    }
    let tidy = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if tidy.is_empty() {
        return Ok(None);
    }
    if tidy.chars().count() > max {
        return Err(fault(
            field,
            format!("tekst jest za długi (najwyżej {max} znaków)."),
        ));
    }
    Ok(Some(tidy))
}

/// Exactly four ASCII letters or digits, upper-cased.
fn last4(raw: &str) -> Option<String> {
    (raw.chars().count() == 4 && raw.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| raw.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<Collection, FieldError> {
        parse_collection(value.to_string().as_bytes())
    }

    fn valid() -> Value {
        json!({
            "collected_by": "requester",
            "person_name": "  Jan   Kowalski ",
            "id_document": { "type": "dowod_osobisty", "last4": "a123" }
        })
    }

    fn field_of(value: Value) -> String {
        parse(value).unwrap_err().field
    }

    #[test]
    fn a_requester_with_an_identity_card_is_accepted_and_tidied() {
        let collection = parse(valid()).unwrap();
        assert_eq!(collection.collected_by, Collector::Requester);
        assert_eq!(collection.person_name, "Jan Kowalski");
        assert_eq!(collection.f01_reference, None);
        assert_eq!(collection.id_document_kind, IdDocumentKind::DowodOsobisty);
        assert_eq!(collection.id_document_last4, "A123");
    }

    #[test]
    fn a_proxy_needs_the_f01_reference_and_keeps_it() {
        let mut body = valid();
        body["collected_by"] = json!("proxy");
        assert_eq!(field_of(body.clone()), "f01_reference");
        body["f01_reference"] = json!("   ");
        assert_eq!(field_of(body.clone()), "f01_reference");
        body["f01_reference"] = json!("F-01/2026/17");
        assert_eq!(
            parse(body).unwrap().f01_reference.as_deref(),
            Some("F-01/2026/17")
        );
    }

    #[test]
    fn only_a_proxy_may_give_an_f01_reference() {
        for who in ["requester", "user"] {
            let mut body = valid();
            body["collected_by"] = json!(who);
            body["f01_reference"] = json!("F-01/2026/17");
            assert_eq!(field_of(body.clone()), "f01_reference", "{who}");
            body["f01_reference"] = Value::Null;
            assert!(parse(body).is_ok(), "{who}: null is the same as absent");
        }
    }

    #[test]
    fn each_fault_names_its_field() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([1, 2]), "$"),
            (json!({}), "collected_by"),
            (
                {
                    let mut b = valid();
                    b["collected_by"] = json!("sasiad");
                    b
                },
                "collected_by",
            ),
            (
                {
                    let mut b = valid();
                    b["person_name"] = json!(" ");
                    b
                },
                "person_name",
            ),
            (
                {
                    let mut b = valid();
                    b["person_name"] = json!("x".repeat(PERSON_NAME_MAX + 1));
                    b
                },
                "person_name",
            ),
            (
                {
                    let mut b = valid();
                    b["person_name"] = json!("Jan\u{7}Kowalski");
                    b
                },
                "person_name",
            ),
            (
                {
                    let mut b = valid();
                    b.as_object_mut().unwrap().remove("id_document");
                    b
                },
                "id_document",
            ),
            (
                {
                    let mut b = valid();
                    b["id_document"]["type"] = json!("legitymacja");
                    b
                },
                "id_document.type",
            ),
            (
                {
                    let mut b = valid();
                    b["id_document"]["number"] = json!("ABC123456");
                    b
                },
                "id_document.number",
            ),
            (
                {
                    let mut b = valid();
                    b["pesel"] = json!("44051401359");
                    b
                },
                "pesel",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(body.clone()), field, "{body}");
        }
        assert_eq!(
            parse_collection(b"not json").unwrap_err().field,
            "$",
            "not JSON"
        );
    }

    #[test]
    fn last4_is_exactly_four_letters_or_digits() {
        for bad in ["123", "12345", "12 4", "12-4", "ąbcd", "", "ABC123456"] {
            let mut body = valid();
            body["id_document"]["last4"] = json!(bad);
            assert_eq!(field_of(body), "id_document.last4", "{bad:?}");
        }
        let mut body = valid();
        body["id_document"]["last4"] = json!(1234);
        assert_eq!(field_of(body), "id_document.last4", "a number, not text");
        for good in ["1234", "ab9Z"] {
            let mut body = valid();
            body["id_document"]["last4"] = json!(good);
            assert!(parse(body).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_fault_never_repeats_the_value() {
        let mut body = valid();
        body["id_document"]["last4"] = json!("ABC123456");
        let error = parse(body).unwrap_err();
        assert!(!error.to_string().contains("ABC123456"), "{error}");
        assert!(error.to_string().starts_with("Pole `id_document.last4`"));
    }
}

/// Whom a case's letter may be handed to, and who handed out its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitled<'a> {
    /// The person who realised the case: he may not hand its letter over.
    pub realised_by: Option<&'a str>,
    /// The requester (the director), by name.
    pub director_name: Option<&'a str>,
    /// The user whose account it is, by name.
    pub user_name: Option<String>,
    /// The proxy the requester authorised with F-01: name and reference.
    pub proxy: Option<(&'a str, &'a str)>,
}

/// Why the desk refuses: a code for audit and a Polish sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorRefusal {
    pub code: &'static str,
    pub reason: String,
}

/// Names compared as people write them: case and spacing do not matter, letters do.
fn same_name(a: &str, b: &str) -> bool {
    let tidy = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    tidy(a) == tidy(b)
}

/// Checks that `operator` may hand the letter to the person recorded in `collection`.
pub fn check_collector(
    entitled: &Entitled<'_>,
    collection: &Collection,
    operator: &str,
) -> Result<(), CollectorRefusal> {
    let refuse = |code, reason: String| Err(CollectorRefusal { code, reason });
    if entitled.realised_by == Some(operator) {
        return refuse(
            "realiser_at_desk",
            format!(
                "Sprawę zrealizował(a) {operator}; pismo musi wydać inna osoba \
                 (rozdzielenie obowiązków)."
            ),
        );
    }
    let given = &collection.person_name;
    let (expected, whom) = match collection.collected_by {
        Collector::Requester => (
            entitled.director_name.map(str::to_owned),
            "wnioskodawcy (dyrektora)",
        ),
        Collector::User => (
            entitled.user_name.clone(),
            "użytkownika, którego dotyczy konto",
        ),
        Collector::Proxy => {
            let Some((name, reference)) = entitled.proxy else {
                return refuse(
                    "no_proxy_authorised",
                    "Wnioskodawca nie wskazał w tej sprawie pełnomocnika upoważnionego \
                     formularzem F-01; pismo może odebrać tylko wnioskodawca albo użytkownik."
                        .to_owned(),
                );
            };
            if collection.f01_reference.as_deref().map(str::trim) != Some(reference) {
                return refuse(
                    "f01_mismatch",
                    "Sygnatura upoważnienia F-01 nie zgadza się z upoważnieniem odnotowanym \
                     w sprawie; pisma nie wydano."
                        .to_owned(),
                );
            }
            (
                Some(name.to_owned()),
                "pełnomocnika wskazanego w upoważnieniu F-01",
            )
        }
    };
    match expected {
        Some(expected) if same_name(&expected, given) => Ok(()),
        Some(_) => refuse(
            "collector_mismatch",
            format!(
                "Imię i nazwisko odbierającego nie zgadza się z imieniem i nazwiskiem {whom} \
                 zapisanym w sprawie; pisma nie wydano."
            ),
        ),
        None => refuse(
            "collector_mismatch",
            format!("W sprawie nie zapisano imienia i nazwiska {whom}; pisma nie wydano."),
        ),
    }
}

#[cfg(test)]
mod collector_tests {
    use super::*;

    fn collection(by: Collector, name: &str, f01: Option<&str>) -> Collection {
        Collection {
            collected_by: by,
            person_name: name.to_owned(),
            f01_reference: f01.map(str::to_owned),
            id_document_kind: IdDocumentKind::DowodOsobisty,
            id_document_last4: "1234".into(),
        }
    }

    fn entitled() -> Entitled<'static> {
        Entitled {
            realised_by: Some("admin.ek04"),
            director_name: Some("Jan Kowalski"),
            user_name: Some("Łukasz Żak".into()),
            proxy: Some(("Anna Nowak", "F-01/2026/17")),
        }
    }

    #[test]
    fn the_requester_the_user_and_the_named_proxy_may_collect() {
        let e = entitled();
        assert!(
            check_collector(
                &e,
                &collection(Collector::Requester, "jan  KOWALSKI", None),
                "op"
            )
            .is_ok()
        );
        assert!(
            check_collector(&e, &collection(Collector::User, "Łukasz Żak", None), "op").is_ok()
        );
        assert!(
            check_collector(
                &e,
                &collection(Collector::Proxy, "Anna Nowak", Some("F-01/2026/17")),
                "op"
            )
            .is_ok()
        );
    }

    #[test]
    fn the_realiser_may_not_hand_the_letter_over() {
        let refusal = check_collector(
            &entitled(),
            &collection(Collector::Requester, "Jan Kowalski", None),
            "admin.ek04",
        )
        .unwrap_err();
        assert_eq!(refusal.code, "realiser_at_desk");
    }

    #[test]
    fn an_invented_collector_or_another_f01_is_refused() {
        let e = entitled();
        let code = |c| check_collector(&e, &c, "op").unwrap_err().code;
        assert_eq!(
            code(collection(Collector::Requester, "Jan Nowak", None)),
            "collector_mismatch"
        );
        assert_eq!(
            code(collection(Collector::User, "Lukasz Zak", None)),
            "collector_mismatch"
        );
        assert_eq!(
            code(collection(
                Collector::Proxy,
                "Anna Nowak",
                Some("F-01/2026/99")
            )),
            "f01_mismatch"
        );
        assert_eq!(
            code(collection(
                Collector::Proxy,
                "Ewa Nowak",
                Some("F-01/2026/17")
            )),
            "collector_mismatch"
        );
        let without = Entitled {
            proxy: None,
            ..entitled()
        };
        assert_eq!(
            check_collector(
                &without,
                &collection(Collector::Proxy, "Anna Nowak", Some("F-01/2026/17")),
                "op"
            )
            .unwrap_err()
            .code,
            "no_proxy_authorised"
        );
    }
}
