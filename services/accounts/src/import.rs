//! `accounts import FILE`: loads institutions, directors, accounts, PZO administrator accounts
//! and department staff from JSON Lines (`.jsonl`, one object a line) or CSV (a header line,
//! then one row a line). Every row is checked first; if any is bad, each bad row is reported
//! by its line number and nothing is imported.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use contracts::values::{Email, Login, PersonName, PhoneNumber, RspoId};
use serde::Deserialize;
use sqlx::PgPool;

use crate::store::directory;

/// One row, whatever the file's format; empty CSV cells are absent values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    #[serde(rename = "type")]
    kind: String,
    rspo_id: Option<String>,
    name: Option<String>,
    city_run: Option<String>,
    rspo_email: Option<String>,
    /// The institution's address registered in ODPN (optional).
    odpn_email: Option<String>,
    login: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Institution {
        rspo_id: RspoId,
        name: String,
        city_run: bool,
        rspo_email: Email,
        odpn_email: Option<Email>,
    },
    Director {
        rspo_id: RspoId,
        login: Login,
        first_name: PersonName,
        last_name: PersonName,
        mobile: PhoneNumber,
        email: Option<Email>,
    },
    Account {
        rspo_id: RspoId,
        login: Login,
        first_name: PersonName,
        last_name: PersonName,
        email: Option<Email>,
    },
    PzoAdmin {
        rspo_id: RspoId,
        login: Login,
    },
    Staff {
        login: Login,
        first_name: PersonName,
        last_name: PersonName,
        role: String,
        email: Option<Email>,
    },
    SioUser {
        login: Login,
        first_name: PersonName,
        last_name: PersonName,
        email: Option<Email>,
    },
}

#[derive(Debug, Default)]
pub struct Report {
    pub imported: usize,
    pub errors: Vec<String>,
}

pub(crate) fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("brak wymaganego pola `{field}`"))
}

pub(crate) fn parsed<T>(
    value: &Option<String>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, contracts::values::ValueError>,
) -> Result<T, String> {
    parse(required(value, field)?).map_err(|e| format!("pole `{field}`: {}", e.message))
}

fn optional_email(value: &Option<String>, field: &str) -> Result<Option<Email>, String> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Email::parse(v)
            .map(Some)
            .map_err(|e| format!("pole `{field}`: {}", e.message)),
    }
}

fn entry(row: &Row) -> Result<Entry, String> {
    let rspo = || parsed(&row.rspo_id, "rspo_id", RspoId::parse);
    let login = || parsed(&row.login, "login", Login::parse);
    let first = || parsed(&row.first_name, "first_name", PersonName::parse);
    let last = || parsed(&row.last_name, "last_name", PersonName::parse);
    match row.kind.trim() {
        "institution" => Ok(Entry::Institution {
            rspo_id: rspo()?,
            name: required(&row.name, "name")?.to_owned(),
            city_run: match required(&row.city_run, "city_run")? {
                "true" | "tak" | "1" => true,
                "false" | "nie" | "0" => false,
                other => {
                    return Err(format!(
                        "pole `city_run`: oczekiwano true/false, jest `{other}`"
                    ));
                }
            },
            rspo_email: parsed(&row.rspo_email, "rspo_email", Email::parse)?,
            odpn_email: optional_email(&row.odpn_email, "odpn_email")?,
        }),
        "director" => Ok(Entry::Director {
            rspo_id: rspo()?,
            login: login()?,
            first_name: first()?,
            last_name: last()?,
            mobile: parsed(&row.mobile, "mobile", PhoneNumber::parse)?,
            email: optional_email(&row.email, "email")?,
        }),
        "account" => Ok(Entry::Account {
            rspo_id: rspo()?,
            login: login()?,
            first_name: first()?,
            last_name: last()?,
            email: optional_email(&row.email, "email")?,
        }),
        "pzo_admin" => Ok(Entry::PzoAdmin {
            rspo_id: rspo()?,
            login: login()?,
        }),
        "staff" => {
            let role = required(&row.role, "role")?;
            if !matches!(role, "administrator" | "operator" | "auditor") {
                return Err(format!(
                    "pole `role`: oczekiwano administrator, operator lub auditor, jest `{role}`"
                ));
            }
            Ok(Entry::Staff {
                login: login()?,
                first_name: first()?,
                last_name: last()?,
                role: role.to_owned(),
                email: optional_email(&row.email, "email")?,
            })
        }
        "sio_user" => Ok(Entry::SioUser {
            login: login()?,
            first_name: first()?,
            last_name: last()?,
            email: optional_email(&row.email, "email")?,
        }),
        other => Err(format!(
            "nieznany typ wiersza `{other}` (institution, director, account, pzo_admin, staff, \
             sio_user)"
        )),
    }
}

/// Rows that passed, with their line numbers, and the errors of those that did not.
type Checked = (Vec<(usize, Entry)>, Vec<String>);

/// Every row of a JSON Lines or CSV file with its line number, read as `R` or not.
/// Each row's line number and the row, or why it could not be read.
pub(crate) type Rows<R> = Vec<(usize, Result<R, String>)>;

pub(crate) fn read_rows<R: serde::de::DeserializeOwned>(path: &Path) -> Result<Rows<R>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("nie można odczytać {}: {e}", path.display()))?;
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut rows: Rows<R> = Vec::new();
    if csv {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        for record in reader.deserialize::<R>() {
            match record {
                Ok(row) => rows.push((rows.len() + 2, Ok(row))),
                Err(e) => {
                    let line = e.position().map_or(rows.len() + 2, |p| p.line() as usize);
                    rows.push((line, Err(format!("niepoprawny wiersz CSV: {e}"))));
                }
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            rows.push((
                i + 1,
                serde_json::from_str::<R>(line).map_err(|e| format!("niepoprawny JSON: {e}")),
            ));
        }
    }
    Ok(rows)
}

/// Reads and checks every row.
fn read(path: &Path) -> Result<Checked, String> {
    let rows = read_rows::<Row>(path)?;
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut logins = HashSet::new();
    for (line, row) in rows {
        match row.and_then(|row| entry(&row)) {
            Ok(entry) => {
                let login = match &entry {
                    Entry::Director { login, .. }
                    | Entry::Account { login, .. }
                    | Entry::PzoAdmin { login, .. }
                    | Entry::Staff { login, .. }
                    | Entry::SioUser { login, .. } => Some(login.to_string()),
                    Entry::Institution { .. } => None,
                };
                if let Some(login) = login
                    && !logins.insert(login.clone())
                {
                    errors.push(format!(
                        "wiersz {line}: login `{login}` występuje w pliku więcej niż raz"
                    ));
                    continue;
                }
                entries.push((line, entry));
            }
            Err(e) => errors.push(format!("wiersz {line}: {e}")),
        }
    }
    Ok((entries, errors))
}

pub async fn import(pool: &PgPool, path: &Path, now: DateTime<Utc>) -> Result<Report, String> {
    let (entries, mut errors) = read(path)?;
    let db = |e: sqlx::Error| format!("błąd bazy danych: {e}");
    let mut tx = pool.begin().await.map_err(db)?;
    let institutions: HashSet<String> = entries
        .iter()
        .filter_map(|(_, e)| match e {
            Entry::Institution { rspo_id, .. } => Some(rspo_id.to_string()),
            _ => None,
        })
        .collect();
    // Institutions first, so a row may name one that comes later in the file.
    let mut ordered: Vec<&(usize, Entry)> = entries.iter().collect();
    ordered.sort_by_key(|(_, e)| !matches!(e, Entry::Institution { .. }));
    for (line, entry) in ordered {
        let rspo = match entry {
            Entry::Director { rspo_id, .. }
            | Entry::Account { rspo_id, .. }
            | Entry::PzoAdmin { rspo_id, .. } => Some(rspo_id.as_str()),
            _ => None,
        };
        if let Some(rspo) = rspo
            && !institutions.contains(rspo)
            && !directory::institution_exists_in_txn(&mut tx, rspo)
                .await
                .map_err(db)?
        {
            errors.push(format!(
                "wiersz {line}: placówka RSPO {rspo} nie istnieje ani w pliku, ani w systemie"
            ));
            continue;
        }
        let result = match entry {
            Entry::Institution {
                rspo_id,
                name,
                city_run,
                rspo_email,
                odpn_email,
            } => {
                directory::institution_upsert_in_txn(
                    &mut tx,
                    rspo_id.as_str(),
                    name,
                    *city_run,
                    rspo_email.as_str(),
                    odpn_email.as_ref().map(Email::as_str),
                    None,
                    now,
                )
                .await
            }
            Entry::Director {
                rspo_id,
                login,
                first_name,
                last_name,
                mobile,
                email,
            } => {
                directory::account_upsert_in_txn(
                    &mut tx,
                    login.as_str(),
                    "zszo",
                    "director",
                    Some(rspo_id.as_str()),
                    Some(first_name.as_str()),
                    Some(last_name.as_str()),
                    email.as_ref().map(Email::as_str),
                    now,
                )
                .await
                .map_err(db)?;
                directory::institution_director_set_in_txn(
                    &mut tx,
                    rspo_id.as_str(),
                    login.as_str(),
                    mobile.as_str(),
                    now,
                )
                .await
                .map(|_| ())
            }
            Entry::Account {
                rspo_id,
                login,
                first_name,
                last_name,
                email,
            } => {
                directory::account_upsert_in_txn(
                    &mut tx,
                    login.as_str(),
                    "zszo",
                    "user",
                    Some(rspo_id.as_str()),
                    Some(first_name.as_str()),
                    Some(last_name.as_str()),
                    email.as_ref().map(Email::as_str),
                    now,
                )
                .await
            }
            Entry::PzoAdmin { rspo_id, login } => {
                directory::account_upsert_in_txn(
                    &mut tx,
                    login.as_str(),
                    "pzo_admin",
                    "user",
                    Some(rspo_id.as_str()),
                    None,
                    None,
                    None,
                    now,
                )
                .await
            }
            Entry::SioUser {
                login,
                first_name,
                last_name,
                email,
            } => {
                directory::account_upsert_in_txn(
                    &mut tx,
                    login.as_str(),
                    "sio",
                    "user",
                    None,
                    Some(first_name.as_str()),
                    Some(last_name.as_str()),
                    email.as_ref().map(Email::as_str),
                    now,
                )
                .await
            }
            Entry::Staff {
                login,
                first_name,
                last_name,
                role,
                email,
            } => {
                directory::account_upsert_in_txn(
                    &mut tx,
                    login.as_str(),
                    "staff",
                    role,
                    None,
                    Some(first_name.as_str()),
                    Some(last_name.as_str()),
                    email.as_ref().map(Email::as_str),
                    now,
                )
                .await
            }
        };
        if let Err(e) = result {
            errors.push(format!("wiersz {line}: {}", db(e)));
        }
    }
    errors.sort_by_key(|e| {
        e.split(':')
            .next()
            .and_then(|w| w.trim_start_matches("wiersz ").parse::<usize>().ok())
    });
    if !errors.is_empty() {
        tx.rollback().await.map_err(db)?;
        return Ok(Report {
            imported: 0,
            errors,
        });
    }
    tx.commit().await.map_err(db)?;
    Ok(Report {
        imported: entries.len(),
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("klucznik-import-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn bad_rows_are_named_by_their_line() {
        let path = write(
            "d.jsonl",
            concat!(
                "{\"type\":\"institution\",\"rspo_id\":\"12345\",\"name\":\"SP 7\",\"city_run\":\"true\",\"rspo_email\":\"sp7@edu.krakow.pl\"}\n",
                "\n",
                "{\"type\":\"director\",\"rspo_id\":\"12345\",\"login\":\"jkowalski\",\"first_name\":\"Jan\",\"last_name\":\"Kowalski\",\"mobile\":\"12\"}\n",
                "{\"type\":\"teacher\"}\n",
                "not json\n",
            ),
        );
        let (entries, errors) = read(&path).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("wiersz 3: pole `mobile`"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("wiersz 4: nieznany typ"),
            "{errors:?}"
        );
        assert!(
            errors[2].starts_with("wiersz 5: niepoprawny JSON"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_csv_file_gives_the_same_entries_and_line_numbers() {
        let path = write(
            "d.csv",
            "type,rspo_id,name,city_run,rspo_email,login,first_name,last_name,mobile,email,role\n\
             institution,12345,\"SP 7, Kraków\",true,sp7@edu.krakow.pl,,,,,,\n\
             account,12345,,,,lzak,Łukasz,Żak,,,\n\
             staff,,,,,admin1,Anna,Nowak,,,janitor\n",
        );
        let (entries, errors) = read(&path).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            errors,
            [
                "wiersz 4: pole `role`: oczekiwano administrator, operator lub auditor, jest `janitor`"
            ]
        );
        assert!(matches!(&entries[0].1, Entry::Institution { name, .. } if name == "SP 7, Kraków"));
    }

    #[test]
    fn a_login_twice_in_one_file_is_refused() {
        let path = write(
            "d.jsonl",
            "{\"type\":\"pzo_admin\",\"rspo_id\":\"1\",\"login\":\"pzo1\"}\n{\"type\":\"pzo_admin\",\"rspo_id\":\"2\",\"login\":\"pzo1\"}\n",
        );
        let (_, errors) = read(&path).unwrap();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("wiersz 2"));
    }
}
