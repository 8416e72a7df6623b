//! `accounts import-staff FILE`: loads the staff of institutions ("Pracownicy Placówki"),
//! with or without an account, from CSV (header `rspo_id,first_name,last_name,pesel,position,
//! employment[,login]`) or JSON Lines. Every row is checked first; if any is bad, each bad row
//! is reported by its line and nothing is imported. A person is the same person at the next
//! import when his institution and PESEL are: the import can be run again (the start-of-year
//! file, then its corrections) without creating anyone twice.
//!
//! Linear in the file: the rows are checked in one pass, the institutions and the logins
//! named are looked up once, and the rows are written in batches of [`BATCH`], one statement
//! each, all in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use contracts::values::{Login, PersonName, Pesel, RspoId};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::staff::{Employment, fold, pesel_index};
use crate::import::{parsed, read_rows, required};

/// Rows written by one statement.
pub const BATCH: usize = 2_000;
/// The longest position ("stanowisko") kept.
const POSITION_MAX: usize = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    rspo_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    pesel: Option<String>,
    position: Option<String>,
    employment: Option<String>,
    /// The member's existing ZSZO account, if he has one.
    login: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Member {
    rspo_id: RspoId,
    first_name: PersonName,
    last_name: PersonName,
    pesel: Pesel,
    position: String,
    employment: Employment,
    login: Option<Login>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows read from the file.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<String>,
}

fn member(row: &Row) -> Result<Member, String> {
    let position = required(&row.position, "position")?;
    if position.chars().count() > POSITION_MAX {
        return Err(format!("pole `position`: najwyżej {POSITION_MAX} znaków"));
    }
    let employment = required(&row.employment, "employment")?;
    Ok(Member {
        rspo_id: parsed(&row.rspo_id, "rspo_id", RspoId::parse)?,
        first_name: parsed(&row.first_name, "first_name", PersonName::parse)?,
        last_name: parsed(&row.last_name, "last_name", PersonName::parse)?,
        pesel: parsed(&row.pesel, "pesel", Pesel::parse)?,
        position: position.to_owned(),
        employment: Employment::parse(employment).ok_or_else(|| {
            format!(
                "pole `employment`: oczekiwano employed, on_leave lub left (zatrudniony, urlop, \
                 zwolniony), jest `{employment}`"
            )
        })?,
        login: match row
            .login
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            None => None,
            Some(login) => {
                Some(Login::parse(login).map_err(|e| format!("pole `login`: {}", e.message))?)
            }
        },
    })
}

/// The rows that passed with their lines, the errors of those that did not, and the rows read.
type Checked = (Vec<(usize, Member)>, Vec<String>, usize);

/// Reads and checks every row: its fields, and a person or a login twice in the file.
fn read(path: &Path, progress: &mut dyn FnMut(&str)) -> Result<Checked, String> {
    let rows = read_rows::<Row>(path)?;
    let total = rows.len();
    let mut members = Vec::with_capacity(total);
    let mut errors = Vec::new();
    let mut people: HashMap<(String, String), usize> = HashMap::new();
    let mut logins: HashMap<String, usize> = HashMap::new();
    for (i, (line, row)) in rows.into_iter().enumerate() {
        if (i + 1) % 10_000 == 0 {
            progress(&format!("sprawdzono {} z {total} wierszy", i + 1));
        }
        let member = match row.and_then(|row| member(&row)) {
            Ok(member) => member,
            Err(e) => {
                errors.push(format!("wiersz {line}: {e}"));
                continue;
            }
        };
        let person = (member.rspo_id.to_string(), member.pesel.as_str().to_owned());
        if let Some(first) = people.insert(person, line) {
            errors.push(format!(
                "wiersz {line}: ta sama osoba (PESEL {}) w tej samej placówce jest już w wierszu {first}",
                member.pesel.masked()
            ));
            continue;
        }
        if let Some(login) = &member.login
            && let Some(first) = logins.insert(login.to_string(), line)
        {
            errors.push(format!(
                "wiersz {line}: login `{login}` jest już w wierszu {first}"
            ));
            continue;
        }
        members.push((line, member));
    }
    Ok((members, errors, total))
}

pub async fn import(
    pool: &PgPool,
    path: &Path,
    pesel_key: &[u8; 32],
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, String> {
    let (members, mut errors, rows) = read(path, progress)?;
    let db = |e: sqlx::Error| format!("błąd bazy danych: {e}");
    let mut tx = pool.begin().await.map_err(db)?;
    let named: Vec<String> = members
        .iter()
        .map(|(_, m)| m.rspo_id.to_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let institutions: HashSet<String> =
        sqlx::query_scalar("SELECT rspo_id FROM institutions WHERE rspo_id = ANY($1)")
            .bind(&named)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?
            .into_iter()
            .collect();
    let logins: Vec<String> = members
        .iter()
        .filter_map(|(_, m)| m.login.as_ref().map(ToString::to_string))
        .collect();
    let accounts: HashMap<String, (String, Option<String>)> =
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT login, kind, institution_rspo_id FROM accounts WHERE login = ANY($1)",
        )
        .bind(&logins)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(login, kind, institution)| (login, (kind, institution)))
        .collect();
    let mut batch = Batch::default();
    for (line, m) in &members {
        let rspo = m.rspo_id.as_str();
        if !institutions.contains(rspo) {
            errors.push(format!(
                "wiersz {line}: placówka RSPO {rspo} nie istnieje w systemie"
            ));
            continue;
        }
        if let Some(login) = &m.login {
            match accounts.get(login.as_str()) {
                Some((kind, Some(institution))) if kind == "zszo" && institution == rspo => {}
                Some(_) => {
                    errors.push(format!(
                        "wiersz {line}: konto `{login}` nie jest kontem ZSZO tej placówki"
                    ));
                    continue;
                }
                None => {
                    errors.push(format!("wiersz {line}: nie ma konta `{login}`"));
                    continue;
                }
            }
        }
        batch.push(m, pesel_key);
    }
    if !errors.is_empty() {
        sort_by_line(&mut errors);
        tx.rollback().await.map_err(db)?;
        return Ok(Report {
            rows,
            errors,
            ..Report::default()
        });
    }
    let mut report = Report {
        rows,
        ..Report::default()
    };
    let total = batch.len();
    let mut written = 0;
    for chunk in batch.chunks(BATCH) {
        let created = chunk.write(&mut tx, now).await.map_err(|e| match e {
            sqlx::Error::Database(d) if d.constraint() == Some("staff_members_login_key") => {
                "konto podane w pliku ma już inny pracownik w systemie; nic nie zaimportowano"
                    .to_owned()
            }
            other => db(other),
        })?;
        report.created += created;
        report.updated += chunk.len() - created;
        written += chunk.len();
        progress(&format!("zapisano {written} z {total} pracowników"));
    }
    let mut event = contracts::Envelope::new(
        contracts::Actor::system("accounts-cli"),
        now,
        contracts::events::StaffImported {
            rows: report.rows as u32,
            created: report.created as u32,
            updated: report.updated as u32,
            institutions: named.len() as u32,
        },
    );
    if named.len() == 1 {
        event.institution_rspo_id = named.first().cloned();
    }
    kit::outbox::outbox_insert_event(&mut tx, &event)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(report)
}

fn sort_by_line(errors: &mut [String]) {
    errors.sort_by_key(|e| {
        e.split(':')
            .next()
            .and_then(|w| w.trim_start_matches("wiersz ").parse::<usize>().ok())
    });
}

/// The checked rows as columns, as one `UNNEST` statement takes them.
#[derive(Default)]
struct Batch {
    institution: Vec<String>,
    first_name: Vec<String>,
    last_name: Vec<String>,
    first_key: Vec<String>,
    last_key: Vec<String>,
    pesel_index: Vec<String>,
    pesel_masked: Vec<String>,
    position: Vec<String>,
    employment: Vec<String>,
    login: Vec<Option<String>>,
}

impl Batch {
    fn push(&mut self, m: &Member, pesel_key: &[u8; 32]) {
        self.institution.push(m.rspo_id.to_string());
        self.first_name.push(m.first_name.to_string());
        self.last_name.push(m.last_name.to_string());
        self.first_key.push(fold(m.first_name.as_str()));
        self.last_key.push(fold(m.last_name.as_str()));
        self.pesel_index
            .push(pesel_index(m.pesel.as_str(), pesel_key));
        self.pesel_masked.push(m.pesel.masked());
        self.position.push(m.position.clone());
        self.employment.push(m.employment.as_str().to_owned());
        self.login.push(m.login.as_ref().map(ToString::to_string));
    }

    fn len(&self) -> usize {
        self.institution.len()
    }

    fn chunks(&self, size: usize) -> impl Iterator<Item = BatchSlice<'_>> {
        (0..self.len())
            .step_by(size.max(1))
            .map(move |start| BatchSlice {
                batch: self,
                range: start..(start + size).min(self.len()),
            })
    }
}

struct BatchSlice<'a> {
    batch: &'a Batch,
    range: std::ops::Range<usize>,
}

impl BatchSlice<'_> {
    fn len(&self) -> usize {
        self.range.len()
    }

    /// Inserts or updates the slice's rows; answers how many were new.
    async fn write(
        &self,
        conn: &mut sqlx::PgConnection,
        now: DateTime<Utc>,
    ) -> Result<usize, sqlx::Error> {
        let b = self.batch;
        let r = self.range.clone();
        let ids: Vec<Uuid> = r.clone().map(|_| Uuid::now_v7()).collect();
        // `xmax = 0` holds for a row this statement inserted, not for one it updated.
        let inserted: Vec<bool> = sqlx::query_scalar(
            "INSERT INTO staff_members (id, institution_rspo_id, first_name, last_name, first_key,
                last_key, pesel_index, pesel_masked, position, employment, login, created_at, updated_at)
             SELECT *, $12, $12 FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[],
                $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             ON CONFLICT (institution_rspo_id, pesel_index) DO UPDATE SET
                first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
                first_key = EXCLUDED.first_key, last_key = EXCLUDED.last_key,
                position = EXCLUDED.position, employment = EXCLUDED.employment,
                login = coalesce(EXCLUDED.login, staff_members.login), updated_at = EXCLUDED.updated_at
             RETURNING (xmax = 0)",
        )
        .bind(&ids)
        .bind(&b.institution[r.clone()])
        .bind(&b.first_name[r.clone()])
        .bind(&b.last_name[r.clone()])
        .bind(&b.first_key[r.clone()])
        .bind(&b.last_key[r.clone()])
        .bind(&b.pesel_index[r.clone()])
        .bind(&b.pesel_masked[r.clone()])
        .bind(&b.position[r.clone()])
        .bind(&b.employment[r.clone()])
        .bind(&b.login[r])
        .bind(now)
        .fetch_all(conn)
        .await?;
        Ok(inserted.into_iter().filter(|new| *new).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("klucznik-staff-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn every_bad_row_is_named_by_its_line_with_its_reason() {
        let path = write(
            "staff.csv",
            "rspo_id,first_name,last_name,pesel,position,employment,login\n\
             12345,Żaneta,Wróblewska,44051401359,nauczycielka,zatrudniona,\n\
             12345,Jan,Nowak,44051401358,nauczyciel,employed,\n\
             12345,Ewa,Kos,44051401359,sekretarka,employed,\n\
             12345,Anna,Lis,02270803624,pedagog,emerytka,\n\
             12345,Piotr,Sowa,,woźny,employed,\n",
        );
        let (members, errors, rows) = read(&path, &mut |_| {}).unwrap();
        assert_eq!(rows, 5);
        assert_eq!(members.len(), 1);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].starts_with("wiersz 3: pole `pesel`"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("wiersz 4: ta sama osoba"),
            "{errors:?}"
        );
        assert!(errors[1].contains("wierszu 2") && !errors[1].contains("44051401359"));
        assert!(
            errors[2].starts_with("wiersz 5: pole `employment`"),
            "{errors:?}"
        );
        assert!(
            errors[3].starts_with("wiersz 6: brak wymaganego pola `pesel`"),
            "{errors:?}"
        );
    }

    #[test]
    fn json_lines_give_the_same_members() {
        let path = write(
            "staff.jsonl",
            "{\"rspo_id\":\"12345\",\"first_name\":\"Łukasz\",\"last_name\":\"Śliwiński\",\"pesel\":\"44051401359\",\"position\":\"nauczyciel\",\"employment\":\"on_leave\",\"login\":\"lsliwinski\"}\n",
        );
        let (members, errors, _) = read(&path, &mut |_| {}).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(members[0].1.employment, Employment::OnLeave);
        assert_eq!(members[0].1.login.as_ref().unwrap().as_str(), "lsliwinski");
    }
}
