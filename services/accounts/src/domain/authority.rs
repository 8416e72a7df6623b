//! Who may ask for a new starting password, and for which account (procedures ZSZO-05 and
//! PZO-01): only the current director of the institution; for ZSZO only for an account of
//! his own institution; for PZO only his institution's administrator account. A request
//! through SEOD comes from a city-run institution (others have no SEOD access). The contact
//! data in a request are the ones the director checked and, where needed, corrected (seeds
//! 000 and 001, step 1): where they differ from the copy here, the copy is updated, not the
//! request refused.

use contracts::events::ContactUpdate;
use contracts::forms::Procedure;
use contracts::seod_status::Rejection;

use crate::domain::account::{AccountKind, AccountStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub rspo_id: String,
    pub city_run: bool,
    pub rspo_email: String,
    /// The address registered in ODPN, from which e-mailed PZO-01 requests are accepted.
    pub odpn_email: Option<String>,
    pub director_login: Option<String>,
    pub director_mobile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    pub kind: AccountKind,
    pub institution_rspo_id: Option<String>,
    pub status: AccountStatus,
}

/// What the request says, as intake registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub procedure: Procedure,
    pub via_seod: bool,
    pub institution_rspo_id: String,
    pub requester_login: String,
    pub target_login: String,
    pub rspo_email: String,
    pub director_mobile: String,
    /// The sender of an e-mailed request.
    pub reply_email: Option<String>,
}

fn refuse(field: &str, code: &str, message: String) -> Rejection {
    Rejection {
        field: field.to_owned(),
        code: code.to_owned(),
        message,
        detail: None,
    }
}

/// Whether the requester may ask for the account; when he may, the contact data his request
/// corrects.
pub fn check(
    request: &Request,
    institution: Option<&Institution>,
    requester: Option<&Account>,
    target: Option<&Account>,
) -> Result<Vec<ContactUpdate>, Rejection> {
    may_ask(request, institution, requester, target)?;
    let Some(institution) = institution else {
        return Ok(Vec::new());
    };
    let mut updates = Vec::new();
    if !request
        .rspo_email
        .eq_ignore_ascii_case(&institution.rspo_email)
    {
        updates.push(ContactUpdate {
            field: "contact.rspo_email".into(),
            previous: Some(institution.rspo_email.clone()),
            current: request.rspo_email.clone(),
        });
    }
    if institution.director_mobile.as_deref() != Some(request.director_mobile.as_str()) {
        updates.push(ContactUpdate {
            field: "contact.director_mobile".into(),
            previous: institution.director_mobile.clone(),
            current: request.director_mobile.clone(),
        });
    }
    Ok(updates)
}

fn may_ask(
    request: &Request,
    institution: Option<&Institution>,
    requester: Option<&Account>,
    target: Option<&Account>,
) -> Result<(), Rejection> {
    let Some(institution) = institution else {
        return Err(refuse(
            "institution.rspo_id",
            "unknown_institution",
            format!(
                "Placówka o numerze RSPO {} nie jest zarejestrowana w systemie.",
                request.institution_rspo_id
            ),
        ));
    };
    if request.via_seod && !institution.city_run {
        return Err(refuse(
            "institution.rspo_id",
            "not_city_run",
            "Placówka niesamorządowa nie składa wniosków przez SEOD; wniosek przyjmuje operator."
                .to_owned(),
        ));
    }
    if let Some(sender) = &request.reply_email {
        let registered = institution
            .odpn_email
            .as_deref()
            .is_some_and(|odpn| odpn.eq_ignore_ascii_case(sender));
        if !registered {
            return Err(refuse(
                "sender_email",
                "sender_not_registered",
                "Wniosek przysłano z adresu innego niż adres placówki zarejestrowany w ODPN; \
                 przyjmij wniosek osobiście albo z zarejestrowanego adresu."
                    .to_owned(),
            ));
        }
    }
    if institution.director_login.as_deref() != Some(request.requester_login.as_str()) {
        return Err(refuse(
            "requester.login",
            "not_director",
            "Wnioskodawca nie jest aktualnym dyrektorem tej placówki.".to_owned(),
        ));
    }
    if requester.is_none_or(|r| r.status != AccountStatus::Active) {
        return Err(refuse(
            "requester.login",
            "requester_not_active",
            "Konto dyrektora składającego wniosek nie jest aktywne; wniosek może złożyć \
             dyrektor z aktywnym kontem."
                .to_owned(),
        ));
    }
    let field = match request.procedure {
        Procedure::Zszo05 => "account.login",
        Procedure::Pzo01 => "account.pzo_identifier",
    };
    let Some(target) = target else {
        return Err(refuse(
            field,
            "unknown_login",
            format!("Nie ma konta o identyfikatorze {}.", request.target_login),
        ));
    };
    let own = target.institution_rspo_id.as_deref() == Some(institution.rspo_id.as_str());
    match request.procedure {
        Procedure::Zszo05 if target.kind != AccountKind::Zszo => Err(refuse(
            field,
            "not_zszo_account",
            "Wskazane konto nie jest kontem użytkownika ZSZO.".to_owned(),
        )),
        Procedure::Zszo05 if !own => Err(refuse(
            field,
            "account_of_another_institution",
            "Konto nie należy do placówki wnioskodawcy.".to_owned(),
        )),
        Procedure::Pzo01 if target.kind == AccountKind::PzoAdmin && !own => Err(refuse(
            field,
            "pzo_of_another_institution",
            "Wskazany identyfikator PZO należy do innej placówki.".to_owned(),
        )),
        Procedure::Pzo01 if target.kind != AccountKind::PzoAdmin => Err(refuse(
            field,
            "not_pzo_admin_account",
            "Wskazany identyfikator nie jest kontem administratora PZO placówki.".to_owned(),
        )),
        _ if target.status == AccountStatus::Disabled => Err(refuse(
            field,
            "account_disabled",
            "Konto jest wyłączone; nowe hasło startowe nie może być wygenerowane.".to_owned(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn institution() -> Institution {
        Institution {
            rspo_id: "12345".into(),
            city_run: true,
            rspo_email: "sp7@edu.krakow.pl".into(),
            odpn_email: Some("sekretariat@sp7.edu.krakow.pl".into()),
            director_login: Some("jkowalski".into()),
            director_mobile: Some("48600100200".into()),
        }
    }

    fn request(procedure: Procedure, target: &str) -> Request {
        Request {
            procedure,
            via_seod: true,
            institution_rspo_id: "12345".into(),
            requester_login: "jkowalski".into(),
            target_login: target.into(),
            rspo_email: "sp7@edu.krakow.pl".into(),
            director_mobile: "48600100200".into(),
            reply_email: None,
        }
    }

    fn e_mailed(sender: &str) -> Request {
        Request {
            via_seod: false,
            reply_email: Some(sender.into()),
            ..request(Procedure::Pzo01, "pzo-admin-12345")
        }
    }

    #[test]
    fn an_e_mailed_request_must_come_from_the_address_registered_in_odpn() {
        let target = account("pzo-admin-12345", "pzo_admin", "12345");
        let from_odpn = e_mailed("Sekretariat@SP7.edu.krakow.pl");
        assert!(check(&from_odpn, Some(&institution()), Some(&target)).is_ok());
        let stranger = e_mailed("jan.kowalski@gmail.com");
        assert_eq!(
            code(check(&stranger, Some(&institution()), Some(&target))),
            "sender_not_registered"
        );
        let no_odpn = Institution {
            odpn_email: None,
            ..institution()
        };
        assert_eq!(
            code(check(&from_odpn, Some(&no_odpn), Some(&target))),
            "sender_not_registered"
        );
    }

    fn director() -> Account {
        account("jkowalski", "zszo", "12345")
    }

    /// The rule as most tests need it: asked by the institution's active director.
    fn check(
        request: &Request,
        institution: Option<&Institution>,
        target: Option<&Account>,
    ) -> Result<Vec<ContactUpdate>, Rejection> {
        super::check(request, institution, Some(&director()), target)
    }

    #[test]
    fn a_director_whose_own_account_is_not_active_cannot_file() {
        let target = account("lzak", "zszo", "12345");
        let mut locked = director();
        locked.status = AccountStatus::Locked;
        let r = request(Procedure::Zszo05, "lzak");
        for requester in [Some(&locked), None] {
            let refusal =
                super::check(&r, Some(&institution()), requester, Some(&target)).unwrap_err();
            assert_eq!(
                (refusal.field.as_str(), refusal.code.as_str()),
                ("requester.login", "requester_not_active")
            );
        }
    }

    fn account(login: &str, kind: &str, rspo: &str) -> Account {
        Account {
            login: login.into(),
            kind: match kind {
                "zszo" => AccountKind::Zszo,
                "pzo_admin" => AccountKind::PzoAdmin,
                _ => AccountKind::Staff,
            },
            institution_rspo_id: Some(rspo.into()),
            status: AccountStatus::Active,
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, Rejection>) -> String {
        r.unwrap_err().code
    }

    #[test]
    fn the_director_may_ask_for_an_account_of_his_own_school() {
        let target = account("lzak", "zszo", "12345");
        assert!(
            check(
                &request(Procedure::Zszo05, "lzak"),
                Some(&institution()),
                Some(&target)
            )
            .is_ok()
        );
    }

    #[test]
    fn an_unknown_school_is_refused() {
        assert_eq!(
            code(check(&request(Procedure::Zszo05, "lzak"), None, None)),
            "unknown_institution"
        );
    }

    #[test]
    fn someone_who_is_not_the_current_director_is_refused() {
        let mut r = request(Procedure::Zszo05, "lzak");
        r.requester_login = "former".into();
        let target = account("lzak", "zszo", "12345");
        let refusal = check(&r, Some(&institution()), Some(&target)).unwrap_err();
        assert_eq!(
            (refusal.field.as_str(), refusal.code.as_str()),
            ("requester.login", "not_director")
        );
    }

    #[test]
    fn an_account_of_another_school_is_refused() {
        let target = account("obcy", "zszo", "99999");
        assert_eq!(
            code(check(
                &request(Procedure::Zszo05, "obcy"),
                Some(&institution()),
                Some(&target)
            )),
            "account_of_another_institution"
        );
    }

    #[test]
    fn an_unknown_login_is_refused() {
        assert_eq!(
            code(check(
                &request(Procedure::Zszo05, "nikt"),
                Some(&institution()),
                None
            )),
            "unknown_login"
        );
    }

    #[test]
    fn the_pzo_account_of_another_school_is_refused() {
        let target = account("pzo-admin-99999", "pzo_admin", "99999");
        assert_eq!(
            code(check(
                &request(Procedure::Pzo01, "pzo-admin-99999"),
                Some(&institution()),
                Some(&target)
            )),
            "pzo_of_another_institution"
        );
        let user = account("lzak", "zszo", "12345");
        assert_eq!(
            code(check(
                &request(Procedure::Pzo01, "lzak"),
                Some(&institution()),
                Some(&user)
            )),
            "not_pzo_admin_account"
        );
    }

    #[test]
    fn corrected_contact_data_are_updates_not_refusals() {
        let target = account("lzak", "zszo", "12345");
        let r = request(Procedure::Zszo05, "lzak");
        assert_eq!(check(&r, Some(&institution()), Some(&target)), Ok(vec![]));
        let mut r = request(Procedure::Zszo05, "lzak");
        r.director_mobile = "48600999999".into();
        r.rspo_email = "SP7@edu.krakow.pl".into();
        let updates = check(&r, Some(&institution()), Some(&target)).unwrap();
        assert_eq!(
            updates,
            vec![ContactUpdate {
                field: "contact.director_mobile".into(),
                previous: Some("48600100200".into()),
                current: "48600999999".into(),
            }],
            "an address differing only in case is the same address"
        );
        r.requester_login = "mwojcik".into();
        assert!(check(&r, Some(&institution()), Some(&target)).is_err());
    }

    #[test]
    fn a_non_city_school_cannot_ask_through_seod() {
        let mut i = institution();
        i.city_run = false;
        let target = account("pzo-admin-12345", "pzo_admin", "12345");
        assert_eq!(
            code(check(
                &request(Procedure::Pzo01, "pzo-admin-12345"),
                Some(&i),
                Some(&target)
            )),
            "not_city_run"
        );
    }
}
