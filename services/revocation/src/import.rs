//! `revocation import FILE`: the register, one JSON object a line, of five types:
//!
//! ```text
//! {"type":"unit","id":"JST-KRK","kind":"jst","name":"Gmina Miejska Kraków","parent":"MEN"}
//! {"type":"local_database","id":"LBD-KRK-1","unit":"JST-KRK","name":"…","auto_send":false,"auto_check":false}
//! {"type":"person","id":"os-1","first_name":"Anna","last_name":"Nowak","pesel":"…","login":"anowak"}
//! {"type":"employee","person":"os-1","unit":"JST-KRK","position":"inspektor","administrator":false,"active":true}
//! {"type":"authorisation","id":"UPW-2025-0001","person":"os-2","unit":"SP7","granted_in":"LBD-KRK-1","approved_by":"os-1","approved_at":"2025-09-01","scope":"…"}
//! ```
//!
//! Every row is checked first, against the rows above it and what the register holds; a
//! file with any wrong row imports nothing and names every wrong row by its line. A row
//! already known (same id) is updated; an authorisation's revocation is never undone by an
//! import. A PESEL is kept only as its keyed index and a mask.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use contracts::revocation::events::RegisterImported;
use contracts::values::{Login, Pesel};
use contracts::{Actor, Envelope};
use serde::Deserialize;
use sqlx::PgPool;

/// The longest file: a register of a whole country fits many times.
const FILE_MAX_BYTES: u64 = 256 * 1024 * 1024;
const ID_MAX: usize = 64;
const NAME_MAX: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Row {
    Unit {
        id: String,
        kind: String,
        name: String,
        #[serde(default)]
        parent: Option<String>,
        #[serde(default)]
        rspo_id: Option<String>,
    },
    LocalDatabase {
        id: String,
        unit: String,
        name: String,
        #[serde(default)]
        auto_send: bool,
        #[serde(default)]
        auto_check: bool,
    },
    Person {
        id: String,
        first_name: String,
        last_name: String,
        pesel: String,
        #[serde(default)]
        login: Option<String>,
    },
    Employee {
        person: String,
        unit: String,
        position: String,
        #[serde(default)]
        administrator: bool,
        #[serde(default = "active")]
        active: bool,
    },
    Authorisation {
        id: String,
        person: String,
        unit: String,
        granted_in: String,
        approved_by: String,
        approved_at: String,
        scope: String,
    },
}

fn active() -> bool {
    true
}

/// A checked row, ready to be written.
enum Entry {
    Unit {
        id: String,
        kind: String,
        name: String,
        parent: Option<String>,
        rspo_id: Option<String>,
    },
    LocalDatabase {
        id: String,
        unit: String,
        name: String,
        auto_send: bool,
        auto_check: bool,
    },
    Person {
        id: String,
        first_name: String,
        last_name: String,
        pesel_index: String,
        pesel_masked: String,
        login: Option<String>,
    },
    Employee {
        person: String,
        unit: String,
        position: String,
        administrator: bool,
        active: bool,
    },
    Authorisation {
        id: String,
        person: String,
        unit: String,
        granted_in: String,
        approved_by: String,
        approved_at: NaiveDate,
        scope: String,
    },
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: u32,
    pub errors: Vec<String>,
}

/// What the register already holds, and what the rows above add to it.
#[derive(Default)]
struct Known {
    units: HashSet<String>,
    databases: HashMap<String, String>,
    people: HashSet<String>,
    pesel_of: HashMap<String, String>,
    login_of: HashMap<String, String>,
    employees: HashSet<(String, String)>,
    authorisations: HashSet<String>,
}

async fn known(pool: &PgPool) -> Result<Known, sqlx::Error> {
    let mut k = Known {
        units: sqlx::query_scalar::<_, String>("SELECT id FROM units")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
        ..Known::default()
    };
    k.databases = sqlx::query_as::<_, (String, String)>("SELECT id, unit_id FROM local_databases")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    for (id, index, login) in sqlx::query_as::<_, (String, String, Option<String>)>(
        "SELECT id, pesel_index, login FROM people",
    )
    .fetch_all(pool)
    .await?
    {
        k.people.insert(id.clone());
        k.pesel_of.insert(index, id.clone());
        if let Some(login) = login {
            k.login_of.insert(login, id);
        }
    }
    k.employees = sqlx::query_as::<_, (String, String)>("SELECT unit_id, person_id FROM employees")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    k.authorisations = sqlx::query_scalar::<_, String>("SELECT id FROM authorisations")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    Ok(k)
}

fn id(value: &str, field: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > ID_MAX {
        return Err(format!("pole `{field}`: od 1 do {ID_MAX} znaków"));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "pole `{field}`: tylko litery łacińskie, cyfry i znaki - _ ."
        ));
    }
    Ok(v.to_owned())
}

fn text(value: &str, field: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > NAME_MAX || v.chars().any(char::is_control) {
        return Err(format!(
            "pole `{field}`: od 1 do {NAME_MAX} znaków, bez znaków sterujących"
        ));
    }
    Ok(v.to_owned())
}

fn known_ref(
    set: &HashSet<String>,
    value: &str,
    field: &str,
    what: &str,
) -> Result<String, String> {
    let v = id(value, field)?;
    if set.contains(&v) {
        Ok(v)
    } else {
        Err(format!("pole `{field}`: nieznana {what} `{v}`"))
    }
}

fn check(row: Row, k: &mut Known, key: &[u8]) -> Result<Entry, String> {
    match row {
        Row::Unit {
            id: unit,
            kind,
            name,
            parent,
            rspo_id,
        } => {
            let unit = id(&unit, "id")?;
            if !matches!(kind.as_str(), "ministry" | "jst" | "school") {
                return Err(format!(
                    "pole `kind`: oczekiwano ministry, jst lub school, jest `{kind}`"
                ));
            }
            let parent = match parent {
                Some(p) => Some(known_ref(
                    &k.units,
                    &p,
                    "parent",
                    "jednostka nadrzędna (musi być wyżej w pliku albo w rejestrze)",
                )?),
                None if kind == "ministry" => None,
                None => {
                    return Err(
                        "pole `parent`: jednostka inna niż ministerstwo ma jednostkę nadrzędną"
                            .into(),
                    );
                }
            };
            if parent.as_deref() == Some(unit.as_str()) {
                return Err("pole `parent`: jednostka nie może być nadrzędna wobec siebie".into());
            }
            let rspo_id = rspo_id
                .map(|r| contracts::values::RspoId::parse(&r).map(|r| r.as_str().to_owned()))
                .transpose()
                .map_err(|e| format!("pole `rspo_id`: {}", e.message))?;
            k.units.insert(unit.clone());
            Ok(Entry::Unit {
                id: unit,
                kind,
                name: text(&name, "name")?,
                parent,
                rspo_id,
            })
        }
        Row::LocalDatabase {
            id: db,
            unit,
            name,
            auto_send,
            auto_check,
        } => {
            let db = id(&db, "id")?;
            let unit = known_ref(&k.units, &unit, "unit", "jednostka")?;
            if k.databases.get(&db).is_some_and(|u| *u != unit) {
                return Err(format!(
                    "pole `unit`: lokalna baza danych `{db}` należy już do innej jednostki"
                ));
            }
            k.databases.insert(db.clone(), unit.clone());
            Ok(Entry::LocalDatabase {
                id: db,
                unit,
                name: text(&name, "name")?,
                auto_send,
                auto_check,
            })
        }
        Row::Person {
            id: person,
            first_name,
            last_name,
            pesel,
            login,
        } => {
            let person = id(&person, "id")?;
            let pesel = Pesel::parse(&pesel).map_err(|e| format!("pole `pesel`: {}", e.message))?;
            let index = kit::pesel::index(pesel.as_str(), key);
            if let Some(other) = k.pesel_of.get(&index)
                && *other != person
            {
                return Err(format!("pole `pesel`: ten PESEL ma już osoba `{other}`"));
            }
            let login = login
                .map(|l| Login::parse(&l).map(|l| l.as_str().to_owned()))
                .transpose()
                .map_err(|e| format!("pole `login`: {}", e.message))?;
            if let Some(login) = &login
                && let Some(other) = k.login_of.get(login)
                && *other != person
            {
                return Err(format!("pole `login`: ten login ma już osoba `{other}`"));
            }
            k.people.insert(person.clone());
            k.pesel_of.insert(index.clone(), person.clone());
            if let Some(login) = &login {
                k.login_of.insert(login.clone(), person.clone());
            }
            Ok(Entry::Person {
                id: person,
                first_name: text(&first_name, "first_name")?,
                last_name: text(&last_name, "last_name")?,
                pesel_index: index,
                pesel_masked: pesel.masked(),
                login,
            })
        }
        Row::Employee {
            person,
            unit,
            position,
            administrator,
            active,
        } => {
            let person = known_ref(&k.people, &person, "person", "osoba")?;
            let unit = known_ref(&k.units, &unit, "unit", "jednostka")?;
            k.employees.insert((unit.clone(), person.clone()));
            Ok(Entry::Employee {
                person,
                unit,
                position: text(&position, "position")?,
                administrator,
                active,
            })
        }
        Row::Authorisation {
            id: authorisation,
            person,
            unit,
            granted_in,
            approved_by,
            approved_at,
            scope,
        } => {
            let authorisation = id(&authorisation, "id")?;
            let person = known_ref(&k.people, &person, "person", "osoba")?;
            // The unit may no longer be subordinate to the one that granted it (a school
            // moved to another local government): kept as it was, refused at revocation.
            let unit = known_ref(&k.units, &unit, "unit", "jednostka")?;
            let granted_in = id(&granted_in, "granted_in")?;
            let Some(granting_unit) = k.databases.get(&granted_in).cloned() else {
                return Err(format!(
                    "pole `granted_in`: nieznana lokalna baza danych `{granted_in}`"
                ));
            };
            let approved_by = known_ref(&k.people, &approved_by, "approved_by", "osoba")?;
            if !k
                .employees
                .contains(&(granting_unit.clone(), approved_by.clone()))
            {
                return Err(format!(
                    "pole `approved_by`: `{approved_by}` nie jest pracownikiem jednostki \
                     `{granting_unit}`, do której należy baza `{granted_in}`"
                ));
            }
            let approved_at = NaiveDate::parse_from_str(approved_at.trim(), "%Y-%m-%d")
                .map_err(|_| "pole `approved_at`: data w postaci RRRR-MM-DD".to_owned())?;
            k.authorisations.insert(authorisation.clone());
            Ok(Entry::Authorisation {
                id: authorisation,
                person,
                unit,
                granted_in,
                approved_by,
                approved_at,
                scope: text(&scope, "scope")?,
            })
        }
    }
}

pub async fn import(
    pool: &PgPool,
    path: &Path,
    key: &[u8],
    now: DateTime<Utc>,
) -> Result<Report, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("nie można odczytać {}: {e}", path.display()))?
        .len();
    if size > FILE_MAX_BYTES {
        return Err(format!(
            "plik {} jest za duży ({size} B, najwyżej {FILE_MAX_BYTES} B)",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("nie można odczytać {}: {e}", path.display()))?;
    let mut k = known(pool).await.map_err(|e| e.to_string())?;
    let mut report = Report::default();
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        report.rows += 1;
        let checked = serde_json::from_str::<Row>(trimmed)
            .map_err(|e| format!("niepoprawny wiersz: {e}"))
            .and_then(|row| check(row, &mut k, key));
        match checked {
            Ok(entry) => entries.push(entry),
            Err(e) => report.errors.push(format!("wiersz {}: {e}", i + 1)),
        }
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    write(pool, &entries, report.rows, now)
        .await
        .map_err(|e| format!("zapis do bazy nie powiódł się: {e}"))?;
    Ok(report)
}

async fn write(
    pool: &PgPool,
    entries: &[Entry],
    rows: u32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut counts = RegisterImported {
        rows,
        units: 0,
        local_databases: 0,
        people: 0,
        employees: 0,
        authorisations: 0,
    };
    for entry in entries {
        match entry {
            Entry::Unit {
                id,
                kind,
                name,
                parent,
                rspo_id,
            } => {
                sqlx::query(
                    "INSERT INTO units (id, kind, name, parent_id, rspo_id) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (id) DO UPDATE SET kind = $2, name = $3, parent_id = $4, rspo_id = $5",
                )
                .bind(id)
                .bind(kind)
                .bind(name)
                .bind(parent)
                .bind(rspo_id)
                .execute(&mut *tx)
                .await?;
                counts.units += 1;
            }
            Entry::LocalDatabase {
                id,
                unit,
                name,
                auto_send,
                auto_check,
            } => {
                sqlx::query(
                    "INSERT INTO local_databases (id, unit_id, name, auto_send, auto_check)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (id) DO UPDATE SET name = $3, auto_send = $4, auto_check = $5",
                )
                .bind(id)
                .bind(unit)
                .bind(name)
                .bind(auto_send)
                .bind(auto_check)
                .execute(&mut *tx)
                .await?;
                counts.local_databases += 1;
            }
            Entry::Person {
                id,
                first_name,
                last_name,
                pesel_index,
                pesel_masked,
                login,
            } => {
                sqlx::query(
                    "INSERT INTO people (id, pesel_index, pesel_masked, first_name, last_name, login)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE SET pesel_index = $2, pesel_masked = $3,
                         first_name = $4, last_name = $5, login = $6",
                )
                .bind(id)
                .bind(pesel_index)
                .bind(pesel_masked)
                .bind(first_name)
                .bind(last_name)
                .bind(login)
                .execute(&mut *tx)
                .await?;
                counts.people += 1;
            }
            Entry::Employee {
                person,
                unit,
                position,
                administrator,
                active,
            } => {
                sqlx::query(
                    "INSERT INTO employees (unit_id, person_id, position, administrator, active)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (unit_id, person_id) DO UPDATE SET position = $3,
                         administrator = $4, active = $5",
                )
                .bind(unit)
                .bind(person)
                .bind(position)
                .bind(administrator)
                .bind(active)
                .execute(&mut *tx)
                .await?;
                counts.employees += 1;
            }
            Entry::Authorisation {
                id,
                person,
                unit,
                granted_in,
                approved_by,
                approved_at,
                scope,
            } => {
                sqlx::query(
                    "INSERT INTO authorisations (id, person_id, unit_id, granted_in, approved_by,
                         approved_at, scope)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO UPDATE SET person_id = $2, unit_id = $3, granted_in = $4,
                         approved_by = $5, approved_at = $6, scope = $7",
                )
                .bind(id)
                .bind(person)
                .bind(unit)
                .bind(granted_in)
                .bind(approved_by)
                .bind(approved_at)
                .bind(scope)
                .execute(&mut *tx)
                .await?;
                counts.authorisations += 1;
            }
        }
    }
    let event = Envelope::new(Actor::system(crate::SERVICE), now, counts);
    kit::outbox::outbox_insert_event(&mut tx, &event).await?;
    tx.commit().await
}
