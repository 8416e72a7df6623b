//! The institution's own records after an account is created (seed 002, point 7): the
//! employee's authorisation to process personal data (F-02), pre-filled, and the list of
//! rooms where personal data is processed (F-04), a template to fill in by hand. Both stay
//! at the institution; neither is sent to the department.

use chrono::{DateTime, Utc};

use crate::LetterError;
use crate::content::polish_date_time;
use crate::render::{
    BODY, BODY_BOLD, HEADING, LEFT, NOTE, Page, RIGHT, SMALL, SUBTITLE, TITLE, prose,
};

/// What F-02 is filled with.
#[derive(Debug, Clone)]
pub struct F02Content {
    pub institution_name: String,
    pub first_name: String,
    pub last_name: String,
    pub position: String,
    pub login: String,
    /// The names of the ZSZO permissions granted.
    pub permissions: Vec<String>,
    /// When the account was created: the authorisation's date.
    pub granted_at: DateTime<Utc>,
}

pub const F02_TITLE: &str = "F-02 Upoważnienie pracownika do przetwarzania danych osobowych";
pub const F04_TITLE: &str =
    "F-04 Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych";

/// F-02, pre-filled with the employee, his login and the permissions granted.
pub fn render_f02(content: &F02Content) -> Result<Vec<u8>, LetterError> {
    let mut page = Page::new()?;
    let institution = prose(&content.institution_name, "institution name")?;
    let person = format!(
        "{} {}",
        prose(&content.first_name, "first name")?,
        prose(&content.last_name, "last name")?
    );
    let position = prose(&content.position, "position")?;
    let date = polish_date_time(content.granted_at);
    let date = date.split(',').next().unwrap_or(&date).to_owned();

    page.paragraph(SMALL, LEFT, "Formularz F-02", "title")?;
    page.down(TITLE.leading() * 0.5, "title")?;
    page.paragraph(
        TITLE,
        LEFT,
        "Upoważnienie pracownika do przetwarzania danych osobowych",
        "title",
    )?;
    page.paragraph(
        SUBTITLE,
        LEFT,
        &format!("{institution}, dnia {date}"),
        "institution name",
    )?;
    page.down(6.0, "title")?;
    page.rule();
    page.down(BODY.leading() + 4.0, "title")?;
    page.paragraph(
        BODY,
        LEFT,
        &format!(
            "Na podstawie art. 29 i art. 32 ust. 4 rozporządzenia Parlamentu Europejskiego i Rady \
             (UE) 2016/679 (RODO) upoważniam Panią/Pana {person}, zatrudnioną/zatrudnionego na \
             stanowisku {position}, do przetwarzania danych osobowych w Zintegrowanym Systemie \
             Zarządzania Oświatą w Krakowie (ZSZO), w zakresie nadanych uprawnień:"
        ),
        "person's name",
    )?;
    page.down(2.0, "body")?;
    if content.permissions.is_empty() {
        page.bullet(BODY, "(nie nadano uprawnień)", "permissions")?;
    }
    for permission in &content.permissions {
        page.bullet(BODY, &prose(permission, "permissions")?, "permissions")?;
    }
    page.down(4.0, "body")?;
    page.paragraph(
        BODY,
        LEFT,
        &format!(
            "Identyfikator użytkownika (login) w ZSZO: {}",
            prose(&content.login, "login")?
        ),
        "login",
    )?;
    page.paragraph(
        BODY,
        LEFT,
        &format!("Upoważnienie obowiązuje od dnia {date} do czasu jego odwołania lub ustania zatrudnienia."),
        "body",
    )?;
    page.down(24.0, "signature")?;
    signature(
        &mut page,
        "podpis administratora danych (dyrektora placówki)",
    )?;
    page.down(8.0, "body")?;
    page.paragraph(HEADING, LEFT, "Oświadczenie pracownika", "body")?;
    page.paragraph(
        NOTE,
        LEFT,
        "Oświadczam, że zapoznałam/zapoznałem się z przepisami o ochronie danych osobowych i z \
         obowiązującymi w placówce zasadami ich przetwarzania, zobowiązuję się do ich \
         przestrzegania oraz do zachowania w tajemnicy danych osobowych i sposobów ich \
         zabezpieczenia, także po ustaniu zatrudnienia.",
        "body",
    )?;
    page.down(24.0, "signature")?;
    signature(&mut page, "data i podpis pracownika")?;
    footer(&mut page)?;
    page.finish(F02_TITLE)
}

/// F-04, the template: a table to fill in at the institution.
pub fn render_f04(institution_name: &str) -> Result<Vec<u8>, LetterError> {
    let mut page = Page::new()?;
    let institution = prose(institution_name, "institution name")?;
    page.paragraph(SMALL, LEFT, "Formularz F-04", "title")?;
    page.down(TITLE.leading() * 0.5, "title")?;
    page.paragraph(
        TITLE,
        LEFT,
        "Wykaz pomieszczeń tworzących obszar przetwarzania danych osobowych",
        "title",
    )?;
    page.paragraph(SUBTITLE, LEFT, &institution, "institution name")?;
    page.down(6.0, "title")?;
    page.rule();
    page.down(BODY.leading() + 4.0, "title")?;
    let columns = [
        (LEFT, "Lp."),
        (LEFT + 30.0, "Budynek (adres)"),
        (LEFT + 150.0, "Pomieszczenie"),
        (LEFT + 240.0, "Przetwarzane dane / system"),
        (LEFT + 380.0, "Zabezpieczenia"),
    ];
    for (x, label) in columns {
        page.show(BODY_BOLD, x, page.y, label, "table")?;
    }
    page.down(6.0, "table")?;
    page.rule();
    for row in 1..=14 {
        page.down(BODY.leading() * 1.6, "table")?;
        page.show(BODY, LEFT, page.y + 4.0, &format!("{row}."), "table")?;
        page.rule();
    }
    page.down(28.0, "signature")?;
    signature(
        &mut page,
        "data i podpis administratora danych (dyrektora placówki)",
    )?;
    footer(&mut page)?;
    page.finish(F04_TITLE)
}

fn signature(page: &mut Page, label: &str) -> Result<(), LetterError> {
    let x = RIGHT - page.width(SMALL, label, "signature")?;
    page.show(
        BODY,
        x.min(RIGHT - 200.0),
        page.y,
        "……………………………………………",
        "signature",
    )?;
    page.down(SMALL.leading(), "signature")?;
    page.show(SMALL, x, page.y, label, "signature")?;
    page.down(SMALL.leading(), "signature")
}

fn footer(page: &mut Page) -> Result<(), LetterError> {
    page.gray(0.45);
    page.show(
        SMALL,
        LEFT,
        crate::render::BOTTOM,
        "Formularz przechowuje się w placówce; nie przesyła się go do Wydziału Edukacji.",
        "footer",
    )?;
    page.gray(0.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(pdf: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        doc.extract_text(&[1]).unwrap()
    }

    #[test]
    fn f02_names_the_employee_his_login_and_every_permission_granted() {
        let pdf = render_f02(&F02Content {
            institution_name: "Szkoła Podstawowa nr 7 w Krakowie".into(),
            first_name: "Żaneta".into(),
            last_name: "Wróblewska".into(),
            position: "nauczycielka".into(),
            login: "zwroblewska".into(),
            permissions: vec![
                "Dziennik elektroniczny – nauczyciel".into(),
                "Arkusz organizacyjny – podgląd".into(),
            ],
            granted_at: DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
                .unwrap()
                .into(),
        })
        .unwrap();
        let text = text_of(&pdf);
        for expected in [
            "Żaneta Wróblewska",
            "zwroblewska",
            "Dziennik elektroniczny – nauczyciel",
            "Arkusz organizacyjny – podgląd",
            "03.12.2026",
        ] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
    }

    #[test]
    fn f04_is_a_template_with_the_institution_and_an_empty_table() {
        let text = text_of(&render_f04("Przedszkole nr 3").unwrap());
        assert!(
            text.contains("Przedszkole nr 3") && text.contains("Pomieszczenie"),
            "{text}"
        );
    }
}
