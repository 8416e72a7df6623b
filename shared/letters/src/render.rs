//! Draws the credentials letter: one A4 page of Polish text in embedded DejaVu fonts,
//! the login and the starting password in a monospaced face so that no character can be
//! taken for another.

use std::mem;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use secrecy::ExposeSecret;

use crate::LetterError;
use crate::content::{AccountKind, LetterContent, polish_date_time};
use crate::fonts::{self, FontUse, hex_string};

/// A4 in points (210 × 297 mm).
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// 25 mm side margins, 20 mm at the top and the bottom.
pub(crate) const LEFT: f32 = 70.87;
pub(crate) const RIGHT: f32 = PAGE_WIDTH - LEFT;
const TOP: f32 = PAGE_HEIGHT - 56.69;
pub(crate) const BOTTOM: f32 = 56.69;
/// Where body text must stop, above the footer.
const BODY_BOTTOM: f32 = BOTTOM + 24.0;
/// Where the values of the labelled rows start.
const VALUE_X: f32 = LEFT + 105.0;

#[derive(Clone, Copy)]
enum Typeface {
    Regular,
    Bold,
    Mono,
}

impl Typeface {
    fn index(self) -> usize {
        match self {
            Self::Regular => 0,
            Self::Bold => 1,
            Self::Mono => 2,
        }
    }

    /// The name of the font in the page's resources.
    fn resource(self) -> &'static [u8] {
        match self {
            Self::Regular => b"F1",
            Self::Bold => b"F2",
            Self::Mono => b"F3",
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Style {
    face: Typeface,
    size: f32,
}

impl Style {
    const fn new(face: Typeface, size: f32) -> Self {
        Self { face, size }
    }

    pub(crate) fn leading(self) -> f32 {
        self.size * 1.45
    }
}

pub(crate) const TITLE: Style = Style::new(Typeface::Bold, 17.0);
pub(crate) const SUBTITLE: Style = Style::new(Typeface::Regular, 11.0);
pub(crate) const BODY: Style = Style::new(Typeface::Regular, 11.0);
pub(crate) const BODY_BOLD: Style = Style::new(Typeface::Bold, 11.0);
pub(crate) const HEADING: Style = Style::new(Typeface::Bold, 12.0);
pub(crate) const NOTE: Style = Style::new(Typeface::Regular, 10.5);
pub(crate) const SMALL: Style = Style::new(Typeface::Regular, 8.5);
pub(crate) const MARK: Style = Style::new(Typeface::Bold, 9.0);
pub(crate) const LOGIN: Style = Style::new(Typeface::Mono, 12.0);
const PASSWORD: Style = Style::new(Typeface::Mono, 15.0);

/// Renders the letter as an unencrypted PDF (the printed, in-person variant; encrypt it
/// with [`crate::encrypt_pdf`] or [`crate::zip_aes`] before it leaves the service).
pub fn render_pdf(content: &LetterContent) -> Result<Vec<u8>, LetterError> {
    let text = LetterText::from_content(content)?;
    let mut page = Page::new()?;

    page.gray(0.45);
    let mark = "POUFNE";
    let mark_x = RIGHT - page.width(MARK, mark, "title")?;
    page.show(MARK, mark_x, page.y, mark, "title")?;
    page.gray(0.0);
    page.down(TITLE.leading() + 4.0, "title")?;

    let (title, subtitle) = match content.account {
        AccountKind::ZszoUser => (
            "Dane dostępowe do konta ZSZO",
            "Nowe hasło startowe użytkownika ZSZO",
        ),
        AccountKind::PzoAdministrator => (
            "Dane dostępowe do konta administratora PZO",
            "Nowe hasło startowe konta administratora placówki w PZO",
        ),
        AccountKind::NewZszoAccount => (
            "Arkusz przekazania danych dostępowych",
            "Nowe konto użytkownika ZSZO – Centralny Panel Administracyjny",
        ),
    };
    page.paragraph(TITLE, LEFT, title, "title")?;
    page.gray(0.3);
    page.paragraph(SUBTITLE, LEFT, subtitle, "title")?;
    page.gray(0.0);
    page.down(4.0, "title")?;
    page.rule();
    page.down(BODY.leading() + 4.0, "title")?;

    page.row("Placówka:", BODY, &text.institution, "institution name")?;
    let reference = match content.account {
        AccountKind::NewZszoAccount => "Utworzono:",
        _ => "Numer sprawy:",
    };
    page.row(reference, BODY, &text.case_number, "case number")?;
    match (&text.person, content.account) {
        (Some(person), AccountKind::ZszoUser) => {
            page.row("Użytkownik:", BODY, person, "person's name")?
        }
        (Some(person), AccountKind::NewZszoAccount) => {
            page.row("Pracownik:", BODY, person, "person's name")?
        }
        (Some(person), AccountKind::PzoAdministrator) => {
            page.row("Administrator:", BODY, person, "person's name")?
        }
        (None, AccountKind::PzoAdministrator) => page.row(
            "Konto:",
            BODY,
            "administrator PZO placówki",
            "person's name",
        )?,
        (None, AccountKind::ZszoUser | AccountKind::NewZszoAccount) => {}
    }
    page.row_unbroken("Login:", LOGIN, &text.login, "login")?;
    page.password_row("Hasło startowe:", text.password, "starting password")?;
    page.row("Adres portalu:", BODY, &text.portal_url, "portal URL")?;

    page.down(6.0, "body")?;
    page.paragraph(
        BODY_BOLD,
        LEFT,
        "Hasło startowe należy zmienić przy pierwszym logowaniu.",
        "body",
    )?;
    page.paragraph(
        BODY,
        LEFT,
        &format!("Hasło startowe jest ważne do {}.", text.expires_at),
        "body",
    )?;
    page.down(4.0, "body")?;
    let how = match content.account {
        AccountKind::NewZszoAccount => {
            "Aby się zalogować, otwórz adres Portalu Dostępowego, podaj login i hasło startowe, \
             ustaw własne hasło i podaj swój adres e-mail. Konto zacznie działać, gdy potwierdzisz \
             adres odnośnikiem z wiadomości, którą otrzymasz. Hasło przepisz dokładnie: \
             rozróżniane są wielkie i małe litery."
        }
        _ => {
            "Aby się zalogować, otwórz adres portalu, podaj login i hasło startowe, a następnie \
             ustaw własne hasło. Hasło przepisz dokładnie: rozróżniane są wielkie i małe litery."
        }
    };
    page.paragraph(BODY, LEFT, how, "body")?;

    page.down(10.0, "body")?;
    page.paragraph(HEADING, LEFT, "Zasady bezpieczeństwa", "body")?;
    page.down(2.0, "body")?;
    let handover = match content.account {
        AccountKind::ZszoUser => {
            "Dyrektor placówki przekazuje te dane użytkownikowi w bezpieczny sposób, tak aby \
             nie poznały ich osoby nieuprawnione."
        }
        AccountKind::PzoAdministrator => {
            "Dane są przeznaczone wyłącznie dla dyrektora placówki, który jest \
             administratorem konta PZO."
        }
        AccountKind::NewZszoAccount => {
            "Administrator lokalny przekazuje ten arkusz pracownikowi osobiście. Arkusz \
             wydawany jest jeden raz: system nie przechowuje hasła startowego i nie wydrukuje \
             go ponownie."
        }
    };
    for note in [
        handover,
        "Nie udostępniaj hasła nikomu. Wydział Edukacji nigdy nie prosi o podanie hasła – \
         ani telefonicznie, ani w wiadomości e-mail, ani osobiście.",
        "Nie zapisuj hasła razem z loginem. Po zmianie hasła zniszcz ten dokument \
         (wydruk i plik).",
        "Utratę hasła startowego lub podejrzenie, że poznała je osoba nieuprawniona, \
         niezwłocznie zgłoś w Wydziale Edukacji: zgłoszenie jest rejestrowane jako \
         incydent bezpieczeństwa.",
    ] {
        page.bullet(NOTE, note, "body")?;
    }

    let footer = match content.account {
        AccountKind::NewZszoAccount => {
            "Arkusz wydany jednorazowo przy utworzeniu konta w Centralnym Panelu Administracyjnym."
                .to_owned()
        }
        _ => format!(
            "Dokument wygenerowany automatycznie w sprawie {}.",
            text.case_number
        ),
    };
    page.gray(0.45);
    page.show(SMALL, LEFT, BOTTOM, &footer, "case number")?;
    page.gray(0.0);

    page.finish(title)
}

/// The letter's values, checked and tidied for printing.
struct LetterText<'a> {
    institution: String,
    case_number: String,
    person: Option<String>,
    login: String,
    password: &'a str,
    portal_url: String,
    expires_at: String,
}

impl<'a> LetterText<'a> {
    fn from_content(content: &'a LetterContent) -> Result<Self, LetterError> {
        let person = match &content.person {
            Some(name) => Some(format!(
                "{} {}",
                prose(&name.first_name, "first name")?,
                prose(&name.last_name, "last name")?
            )),
            None => None,
        };
        Ok(Self {
            institution: prose(&content.institution_name, "institution name")?,
            case_number: prose(&content.case_number, "case number")?,
            person,
            login: token(&content.login, "login")?.to_owned(),
            password: token(
                content.starting_password.expose_secret(),
                "starting password",
            )?,
            portal_url: token(&content.portal_url, "portal URL")?.to_owned(),
            expires_at: polish_date_time(content.expires_at),
        })
    }
}

/// Free text: runs of white space become one space; other control characters are refused.
pub(crate) fn prose(value: &str, field: &'static str) -> Result<String, LetterError> {
    if value.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(LetterError::UnsupportedCharacter { field });
    }
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() {
        return Err(LetterError::EmptyField { field });
    }
    Ok(words.join(" "))
}

/// A value printed exactly as given (a login, a password, an address): no white space or
/// control character may hide in it.
fn token<'a>(value: &'a str, field: &'static str) -> Result<&'a str, LetterError> {
    if value.is_empty() {
        return Err(LetterError::EmptyField { field });
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(LetterError::UnsupportedCharacter { field });
    }
    Ok(value)
}

/// The page being drawn: its fonts, its content stream so far, and the baseline of the
/// next line.
pub(crate) struct Page {
    fonts: [FontUse; 3],
    ops: Vec<Operation>,
    pub(crate) y: f32,
}

impl Page {
    pub(crate) fn new() -> Result<Self, LetterError> {
        Ok(Self {
            fonts: [
                FontUse::load(&fonts::DEJAVU_SANS)?,
                FontUse::load(&fonts::DEJAVU_SANS_BOLD)?,
                FontUse::load(&fonts::DEJAVU_SANS_MONO)?,
            ],
            ops: Vec::new(),
            y: TOP,
        })
    }

    pub(crate) fn width(
        &self,
        style: Style,
        text: &str,
        field: &'static str,
    ) -> Result<f32, LetterError> {
        self.fonts[style.face.index()]
            .width(text, style.size)
            .ok_or(LetterError::UnsupportedCharacter { field })
    }

    pub(crate) fn show(
        &mut self,
        style: Style,
        x: f32,
        y: f32,
        text: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        let codes = self.fonts[style.face.index()]
            .encode(text)
            .ok_or(LetterError::UnsupportedCharacter { field })?;
        self.ops.extend([
            Operation::new("BT", vec![]),
            Operation::new(
                "Tf",
                vec![
                    Object::Name(style.face.resource().to_vec()),
                    Object::Real(style.size),
                ],
            ),
            Operation::new("Td", vec![Object::Real(x), Object::Real(y)]),
            Operation::new("Tj", vec![hex_string(codes)]),
            Operation::new("ET", vec![]),
        ]);
        Ok(())
    }

    /// Sets the fill colour (text included) to a grey level, 0 being black.
    pub(crate) fn gray(&mut self, level: f32) {
        self.ops
            .push(Operation::new("g", vec![Object::Real(level)]));
    }

    pub(crate) fn down(&mut self, by: f32, field: &'static str) -> Result<(), LetterError> {
        self.y -= by;
        if self.y < BODY_BOTTOM {
            return Err(LetterError::DoesNotFit { field });
        }
        Ok(())
    }

    /// `text` broken into lines no wider than `width`: between words, and inside a word
    /// only when the word alone is too wide (a long address).
    fn lines(
        &self,
        style: Style,
        text: &str,
        width: f32,
        field: &'static str,
    ) -> Result<Vec<String>, LetterError> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let joined = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if self.width(style, &joined, field)? <= width {
                current = joined;
                continue;
            }
            if !current.is_empty() {
                lines.push(mem::take(&mut current));
            }
            if self.width(style, word, field)? <= width {
                current = word.to_owned();
                continue;
            }
            for c in word.chars() {
                current.push(c);
                if current.chars().count() > 1 && self.width(style, &current, field)? > width {
                    current.pop();
                    lines.push(mem::replace(&mut current, c.to_string()));
                }
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        Ok(lines)
    }

    /// Lines of `text` from `x` to the right margin; leaves `y` on the next baseline.
    pub(crate) fn paragraph(
        &mut self,
        style: Style,
        x: f32,
        text: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        for line in self.lines(style, text, RIGHT - x, field)? {
            self.show(style, x, self.y, &line, field)?;
            self.down(style.leading(), field)?;
        }
        Ok(())
    }

    pub(crate) fn bullet(
        &mut self,
        style: Style,
        text: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        self.show(style, LEFT + 4.0, self.y, "•", field)?;
        self.paragraph(style, LEFT + 16.0, text, field)?;
        self.down(2.0, field)
    }

    /// A label and its value, the value wrapped in its column.
    pub(crate) fn row(
        &mut self,
        label: &str,
        style: Style,
        value: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        self.show(BODY, LEFT, self.y, label, field)?;
        self.paragraph(style, VALUE_X, value, field)?;
        self.down(3.0, field)
    }

    /// A label and a value that must stay on one line to be read back exactly.
    pub(crate) fn row_unbroken(
        &mut self,
        label: &str,
        style: Style,
        value: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        if self.width(style, value, field)? > RIGHT - VALUE_X {
            return Err(LetterError::DoesNotFit { field });
        }
        self.show(BODY, LEFT, self.y, label, field)?;
        self.show(style, VALUE_X, self.y, value, field)?;
        self.down(style.leading() + 3.0, field)
    }

    /// The password, on one line, framed on a light background.
    fn password_row(
        &mut self,
        label: &str,
        password: &str,
        field: &'static str,
    ) -> Result<(), LetterError> {
        let style = PASSWORD;
        let padding = 6.0;
        let width = self.width(style, password, field)?;
        if width + 2.0 * padding > RIGHT - VALUE_X {
            return Err(LetterError::DoesNotFit { field });
        }
        self.down(4.0, field)?;
        let (bottom, height) = (self.y - 0.3 * style.size - 2.0, 1.25 * style.size + 4.0);
        self.ops.extend([
            Operation::new("q", vec![]),
            Operation::new("g", vec![Object::Real(0.94)]),
            Operation::new("G", vec![Object::Real(0.35)]),
            Operation::new("w", vec![Object::Real(0.8)]),
            Operation::new(
                "re",
                vec![
                    Object::Real(VALUE_X - padding),
                    Object::Real(bottom),
                    Object::Real(width + 2.0 * padding),
                    Object::Real(height),
                ],
            ),
            Operation::new("B", vec![]),
            Operation::new("Q", vec![]),
        ]);
        self.show(BODY, LEFT, self.y, label, field)?;
        self.show(style, VALUE_X, self.y, password, field)?;
        self.down(style.leading() + 6.0, field)
    }

    /// A thin line across the text column, just under the current baseline.
    pub(crate) fn rule(&mut self) {
        self.ops.extend([
            Operation::new("q", vec![]),
            Operation::new("G", vec![Object::Real(0.6)]),
            Operation::new("w", vec![Object::Real(0.6)]),
            Operation::new("m", vec![Object::Real(LEFT), Object::Real(self.y)]),
            Operation::new("l", vec![Object::Real(RIGHT), Object::Real(self.y)]),
            Operation::new("S", vec![]),
            Operation::new("Q", vec![]),
        ]);
    }

    /// Writes the page, its fonts and the document around them.
    pub(crate) fn finish(self, title: &str) -> Result<Vec<u8>, LetterError> {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();

        let mut font_ids = Vec::with_capacity(self.fonts.len());
        for font in self.fonts {
            font_ids.push(font.write(&mut doc)?);
        }
        let mut font_resources = lopdf::Dictionary::new();
        for (face, id) in [Typeface::Regular, Typeface::Bold, Typeface::Mono]
            .into_iter()
            .zip(font_ids)
        {
            font_resources.set(face.resource(), id);
        }

        let mut contents = Stream::new(
            lopdf::Dictionary::new(),
            Content {
                operations: self.ops,
            }
            .encode()?,
        );
        contents.compress()?;
        let contents_id = doc.add_object(contents);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_WIDTH), Object::Real(PAGE_HEIGHT)],
            "Resources" => dictionary! { "Font" => font_resources },
            "Contents" => contents_id,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page_id.into()],
                "Count" => 1,
            }),
        );
        let catalog_id = doc.add_object(dictionary! {
            "Type" => "Catalog",
            "Pages" => pages_id,
            "Lang" => Object::string_literal("pl-PL"),
            "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
        });
        let info_id = doc.add_object(dictionary! {
            "Title" => lopdf::text_string(title),
            "Producer" => Object::string_literal("Klucznik"),
        });
        doc.trailer.set("Root", catalog_id);
        doc.trailer.set("Info", info_id);
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(LetterError::Random)?;
        doc.trailer.set(
            "ID",
            vec![
                Object::String(id.to_vec(), lopdf::StringFormat::Hexadecimal),
                Object::String(id.to_vec(), lopdf::StringFormat::Hexadecimal),
            ],
        );

        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).map_err(lopdf::Error::from)?;
        Ok(bytes)
    }
}
