//! The staff of an institution (procedure C, seed 002): how names are folded for search, how
//! a new account's login is made, what an employment status is, and the catalogue of ZSZO
//! permissions an account may be granted.

use serde::Deserialize;

/// Whether a member of staff works at the institution now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Employment {
    Employed,
    OnLeave,
    Left,
}

impl Employment {
    pub fn as_str(self) -> &'static str {
        match self {
            Employment::Employed => "employed",
            Employment::OnLeave => "on_leave",
            Employment::Left => "left",
        }
    }

    /// The import takes the code or the Polish word a staff file is likely to hold.
    pub fn parse(text: &str) -> Option<Employment> {
        match fold(text).as_str() {
            "employed" | "zatrudniony" | "zatrudniona" | "aktywny" | "aktywna" => {
                Some(Employment::Employed)
            }
            "on_leave" | "urlop" | "na urlopie" => Some(Employment::OnLeave),
            "left" | "zwolniony" | "zwolniona" | "niezatrudniony" | "niezatrudniona" => {
                Some(Employment::Left)
            }
            _ => None,
        }
    }
}

/// Lower case with the Polish letters (and the common Latin ones of other languages) written
/// without their marks, other characters kept: "Łukasz Żółć" → "lukasz zolc". A name typed
/// without Polish letters is then found as the name with them.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'ą' | 'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ă' => 'a',
            'ć' | 'č' | 'ç' => 'c',
            'ď' => 'd',
            'ę' | 'é' | 'è' | 'ê' | 'ë' | 'ě' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ł' | 'ľ' | 'ĺ' => 'l',
            'ń' | 'ň' | 'ñ' => 'n',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ő' => 'o',
            'ř' | 'ŕ' => 'r',
            'ś' | 'š' | 'ş' => 's',
            'ť' | 'ţ' => 't',
            'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            other => other,
        };
        out.push(plain);
    }
    out
}

/// The longest login (`contracts::values::Login`).
const LOGIN_MAX: usize = 64;

/// The login rule: the first name's initial and the surname, folded to lowercase ASCII with
/// everything but letters dropped ("Anna Nowak-Żółć" → "anowakzolc"). The `n`-th candidate
/// (from 1) adds `n` as a suffix from the second on: "anowak", "anowak2", "anowak3", …
/// Short or letterless names are padded so that a login always has its three characters.
pub fn login_candidate(first_name: &str, last_name: &str, n: u32) -> String {
    let letters =
        |s: &str| -> String { fold(s).chars().filter(char::is_ascii_lowercase).collect() };
    let initial = letters(first_name).chars().next().unwrap_or('u');
    let mut base = format!("{initial}{}", letters(last_name));
    while base.len() < 3 {
        base.push('x');
    }
    let suffix = if n <= 1 { String::new() } else { n.to_string() };
    base.truncate(LOGIN_MAX - suffix.len());
    base + &suffix
}

/// One permission in ZSZO that a local administrator may grant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct Permission {
    /// A short stable code, kept with the account: `dziennik.nauczyciel`.
    pub code: String,
    /// What a person reads: "Dziennik elektroniczny – nauczyciel".
    pub name: String,
}

/// The catalogue of ZSZO permissions, from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Catalogue(pub Vec<Permission>);

impl Catalogue {
    /// A catalogue with an empty or repeated code is a configuration mistake.
    pub fn checked(self) -> Result<Self, String> {
        let mut seen = std::collections::HashSet::new();
        for permission in &self.0 {
            let code = permission.code.trim();
            if code.is_empty() || code.len() > 64 || permission.name.trim().is_empty() {
                return Err(format!(
                    "accounts.permission_catalogue: {:?} needs a code (up to 64 characters) and a name",
                    permission.code
                ));
            }
            if !seen.insert(code.to_owned()) {
                return Err(format!(
                    "accounts.permission_catalogue: the code {code:?} appears twice"
                ));
            }
        }
        Ok(self)
    }

    pub fn find(&self, code: &str) -> Option<&Permission> {
        self.0.iter().find(|p| p.code == code)
    }

    /// The name of a code, or the code itself when the catalogue no longer has it.
    pub fn name_of<'a>(&'a self, code: &'a str) -> &'a str {
        self.find(code).map_or(code, |p| p.name.as_str())
    }
}

/// A PESEL's index: its keyed hash, to find the same person at the next import without
/// keeping the number.
pub fn pesel_index(pesel: &str, key: &[u8; 32]) -> String {
    kit::pesel::index(pesel, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_folded_to_lowercase_ascii_for_search() {
        assert_eq!(fold("  Łukasz ŻÓŁĆ "), "lukasz zolc");
        assert_eq!(fold("Gęślą Jaźń"), "gesla jazn");
        assert_eq!(fold("Müller-Straße"), "muller-strasse");
        assert_eq!(fold("Śliwińska"), fold("sliwinska"));
    }

    #[test]
    fn the_login_is_the_initial_and_the_surname_with_a_suffix_from_the_second() {
        assert_eq!(login_candidate("Łukasz", "Żak", 1), "lzak");
        assert_eq!(login_candidate("Łukasz", "Żak", 2), "lzak2");
        assert_eq!(login_candidate("Anna", "Nowak-Żółć", 1), "anowakzolc");
        assert_eq!(login_candidate("Jan", "O'Neil", 12), "joneil12");
        assert_eq!(login_candidate("Ewa", "Li", 1), "eli");
        assert_eq!(login_candidate("Ewa", "O", 1), "eox");
        let long = "Wierzbicka".repeat(10);
        let login = login_candidate("Anna", &long, 1000);
        assert_eq!(login.len(), 64);
        assert!(login.ends_with("1000"));
        for login in [login, login_candidate("Ąę", "Ół", 3)] {
            contracts::values::Login::parse(&login).unwrap();
        }
    }

    #[test]
    fn an_employment_status_is_read_as_a_code_or_a_polish_word() {
        assert_eq!(Employment::parse("employed"), Some(Employment::Employed));
        assert_eq!(Employment::parse("Zatrudniona"), Some(Employment::Employed));
        assert_eq!(Employment::parse("na urlopie"), Some(Employment::OnLeave));
        assert_eq!(Employment::parse("zwolniony"), Some(Employment::Left));
        assert_eq!(Employment::parse("emeryt"), None);
    }

    #[test]
    fn a_catalogue_with_a_repeated_or_empty_code_is_refused() {
        let p = |code: &str| Permission {
            code: code.into(),
            name: "x".into(),
        };
        assert!(Catalogue(vec![p("a"), p("b")]).checked().is_ok());
        assert!(Catalogue(vec![p("a"), p("a")]).checked().is_err());
        assert!(Catalogue(vec![p(" ")]).checked().is_err());
    }
}
