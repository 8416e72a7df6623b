//! The credentials letter checked with the tools a recipient's side would use: qpdf and
//! poppler (pdftotext, pdfinfo, pdffonts) for the PDF, 7-Zip for the AES ZIP. A missing
//! tool fails the test with the package to install; nothing is skipped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use delivery::letter::{
    AccountKind, CIPHER_ALPHABET, LetterContent, LetterError, PersonName, cipher_password,
    encrypt_pdf, render_pdf, zip_aes,
};
use secrecy::{ExposeSecret, SecretString};

const STARTING_PASSWORD: &str = "Xy7#kQ-2mP_9aZ";
const LOGIN: &str = "lukasz.zak@sp123";

fn expiry() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T13:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn zszo_letter() -> LetterContent {
    LetterContent {
        institution_name: "Szkoła Podstawowa nr 123 im. Marii Skłodowskiej-Curie w Krakowie"
            .to_owned(),
        person: Some(PersonName {
            first_name: "Łukasz".to_owned(),
            last_name: "Żak".to_owned(),
        }),
        login: LOGIN.to_owned(),
        starting_password: SecretString::from(STARTING_PASSWORD),
        portal_url: "https://portal.zszo.example.pl/logowanie".to_owned(),
        expires_at: expiry(),
        case_number: "ZSZO-05/2026/000001".to_owned(),
        account: AccountKind::ZszoUser,
    }
}

fn pzo_letter() -> LetterContent {
    LetterContent {
        institution_name: "Niepubliczne Przedszkole „Żółty Źrebaczek” w Krakowie".to_owned(),
        person: None,
        login: "PZO.ADM.120456".to_owned(),
        starting_password: SecretString::from("Gh4$tR9!wZ2@qL"),
        portal_url: "https://pzo.example.pl/".to_owned(),
        expires_at: expiry(),
        case_number: "PZO-01/2026/000042".to_owned(),
        account: AccountKind::PzoAdministrator,
    }
}

// ---------------------------------------------------------------- tools ---

/// A directory of its own under cargo's scratch space, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("test-scratch")
            .join(format!(
                "letter-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a tool with no standard input; a tool that is not installed fails the test
/// naming the Debian package.
fn run(program: &str, args: &[&str]) -> Output {
    let package = match program {
        "qpdf" => "qpdf",
        "7z" => "p7zip-full",
        _ => "poppler-utils",
    };
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}): install the Debian package {package} \
                 (scripts/ensure-deps.sh does)"
            )
        })
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// qpdf's `--decrypt`; `Ok(path)` of the decrypted copy, or `Err(stderr)`.
fn qpdf_decrypt(scratch: &Scratch, encrypted: &Path, password: &str) -> Result<PathBuf, String> {
    let out = scratch.path("decrypted.pdf");
    let _ = std::fs::remove_file(&out);
    let output = run(
        "qpdf",
        &[
            &format!("--password={password}"),
            "--decrypt",
            path_arg(encrypted),
            path_arg(&out),
        ],
    );
    // 0 is success, 3 success with warnings: a letter should give no warning at all.
    match output.status.code() {
        Some(0) => Ok(out),
        _ => Err(format!(
            "{}{}",
            stderr(&output),
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

/// The text poppler extracts from a PDF (UTF-8).
fn pdftotext(pdf: &Path) -> String {
    let output = run("pdftotext", &["-enc", "UTF-8", path_arg(pdf), "-"]);
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        stderr(&output)
    );
    String::from_utf8(output.stdout).expect("pdftotext gives UTF-8")
}

fn tool_stdout(program: &str, args: &[&str]) -> String {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        stderr(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_has_word(text: &str, word: &str) {
    assert!(
        text.split_whitespace().any(|w| w == word),
        "{word:?} is not a whole word of the extracted text:\n{text}"
    );
}

fn assert_has(text: &str, phrase: &str) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(phrase),
        "{phrase:?} is not in the extracted text:\n{text}"
    );
}

/// Everything the ZSZO letter must say, checked on the text extracted from it.
fn assert_reads_as_zszo_letter(text: &str) {
    assert_has(text, "Dane dostępowe do konta ZSZO");
    assert_has(text, "Łukasz Żak");
    assert_has(
        text,
        "Szkoła Podstawowa nr 123 im. Marii Skłodowskiej-Curie w Krakowie",
    );
    assert_has(text, "ZSZO-05/2026/000001");
    assert_has(text, "Hasło startowe:");
    assert_has_word(text, LOGIN);
    assert_has_word(text, STARTING_PASSWORD);
    assert_has_word(text, "https://portal.zszo.example.pl/logowanie");
    assert_has(
        text,
        "Hasło startowe należy zmienić przy pierwszym logowaniu.",
    );
    assert_has(
        text,
        "Hasło startowe jest ważne do 30.11.2026 r., godz. 14:00.",
    );
    assert_has(text, "Wydział Edukacji nigdy nie prosi o podanie hasła");
}

/// `needle` in `haystack`, as raw bytes.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn utf16_be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

// ---------------------------------------------------------------- tests ---

#[test]
fn the_in_person_letter_is_one_a4_page_in_embedded_fonts_and_reads_back_exactly() {
    let scratch = Scratch::new();
    let pdf = scratch.write("letter.pdf", &render_pdf(&zszo_letter()).unwrap());

    let check = run("qpdf", &["--check", path_arg(&pdf)]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "qpdf --check: {}{}",
        stderr(&check),
        String::from_utf8_lossy(&check.stdout)
    );

    let info = tool_stdout("pdfinfo", &[path_arg(&pdf)]);
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("(A4)"), "{info}");
    assert!(info.contains("Encrypted:       no"), "{info}");
    assert!(
        info.contains("Dane dostępowe do konta ZSZO"),
        "the title is the document's title:\n{info}"
    );

    // Every font embedded as a subset of DejaVu, as a CID TrueType font (two-byte codes).
    let fonts = tool_stdout("pdffonts", &[path_arg(&pdf)]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{fonts}");
    for row in rows {
        assert!(row.contains("+DejaVuSans"), "{fonts}");
        assert!(row.contains("CID TrueType"), "{fonts}");
        assert!(row.contains("Identity-H"), "{fonts}");
        let flags: Vec<&str> = row.split_whitespace().rev().take(5).collect();
        // … emb sub uni object ID: "yes yes yes".
        assert_eq!(
            &flags[2..5],
            ["yes", "yes", "yes"],
            "not embedded, subset and mapped to Unicode:\n{fonts}"
        );
    }

    assert_reads_as_zszo_letter(&pdftotext(&pdf));
}

#[test]
fn the_in_person_letter_is_small_enough_to_mail() {
    // The fonts are subset: the letter stays small although three fonts of ~0.5–0.7 MB
    // are embedded.
    let pdf = render_pdf(&zszo_letter()).unwrap();
    assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
}

#[test]
fn the_encrypted_letter_opens_with_the_cipher_password_and_reads_back_exactly() {
    let scratch = Scratch::new();
    let cipher = cipher_password().unwrap();
    let encrypted =
        encrypt_pdf(&render_pdf(&zszo_letter()).unwrap(), cipher.expose_secret()).unwrap();
    let encrypted = scratch.write("letter-encrypted.pdf", &encrypted);

    let shown = tool_stdout(
        "qpdf",
        &[
            &format!("--password={}", cipher.expose_secret()),
            "--show-encryption",
            path_arg(&encrypted),
        ],
    );
    assert!(shown.contains("R = 6"), "not revision 6:\n{shown}");
    assert!(
        shown.contains("stream encryption method: AESv3"),
        "streams not AES-256:\n{shown}"
    );
    assert!(
        shown.contains("string encryption method: AESv3"),
        "strings not AES-256:\n{shown}"
    );

    let decrypted = qpdf_decrypt(&scratch, &encrypted, cipher.expose_secret())
        .expect("the cipher password opens the letter");
    assert_reads_as_zszo_letter(&pdftotext(&decrypted));

    // poppler opens it directly too, given the password.
    let output = run(
        "pdftotext",
        &[
            "-upw",
            cipher.expose_secret(),
            "-enc",
            "UTF-8",
            path_arg(&encrypted),
            "-",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_reads_as_zszo_letter(&String::from_utf8(output.stdout).unwrap());
}

#[test]
fn the_encrypted_letter_opens_with_a_cipher_password_of_any_printable_ascii() {
    let scratch = Scratch::new();
    let cipher = "Xy7#kQ-2mP_9aZ (\\)!";
    let encrypted = encrypt_pdf(&render_pdf(&pzo_letter()).unwrap(), cipher).unwrap();
    let encrypted = scratch.write("letter-encrypted.pdf", &encrypted);
    let decrypted =
        qpdf_decrypt(&scratch, &encrypted, cipher).expect("the cipher password opens the letter");
    let text = pdftotext(&decrypted);
    assert_has(&text, "Dane dostępowe do konta administratora PZO");
    assert_has(
        &text,
        "Niepubliczne Przedszkole „Żółty Źrebaczek” w Krakowie",
    );
    assert_has(&text, "Konto: administrator PZO placówki");
    assert_has_word(&text, "PZO.ADM.120456");
    assert_has_word(&text, "Gh4$tR9!wZ2@qL");
    assert_has(&text, "wyłącznie dla dyrektora placówki");
}

#[test]
fn the_encrypted_letter_does_not_open_with_a_wrong_or_no_password() {
    let scratch = Scratch::new();
    let cipher = cipher_password().unwrap();
    let encrypted =
        encrypt_pdf(&render_pdf(&zszo_letter()).unwrap(), cipher.expose_secret()).unwrap();
    let encrypted = scratch.write("letter-encrypted.pdf", &encrypted);

    for wrong in [
        "",
        "wrong-password",
        STARTING_PASSWORD,
        &cipher.expose_secret()[1..],
    ] {
        let err = qpdf_decrypt(&scratch, &encrypted, wrong)
            .expect_err("a wrong password must not open the letter");
        assert!(
            err.contains("invalid password"),
            "qpdf failed for another reason: {err}"
        );
    }
    let output = run("pdftotext", &[path_arg(&encrypted), "-"]);
    assert!(
        !output.status.success(),
        "pdftotext read the letter without a password"
    );
}

#[test]
fn the_encrypted_letter_shows_nothing_of_its_content_in_its_bytes() {
    let cipher = cipher_password().unwrap();
    let encrypted =
        encrypt_pdf(&render_pdf(&zszo_letter()).unwrap(), cipher.expose_secret()).unwrap();
    assert!(encrypted.starts_with(b"%PDF-2.0"));
    for secret in [
        STARTING_PASSWORD,
        LOGIN,
        "Łukasz",
        "Żak",
        cipher.expose_secret(),
    ] {
        assert!(
            !contains(&encrypted, secret.as_bytes()),
            "{secret:?} in the bytes (UTF-8)"
        );
        assert!(
            !contains(&encrypted, &utf16_be(secret)),
            "{secret:?} in the bytes (UTF-16)"
        );
    }
}

#[test]
fn two_encryptions_of_one_letter_differ() {
    let pdf = render_pdf(&zszo_letter()).unwrap();
    let password = "Xy7#kQ-2mP_9aZ";
    assert_ne!(
        encrypt_pdf(&pdf, password).unwrap(),
        encrypt_pdf(&pdf, password).unwrap()
    );
}

#[test]
fn the_aes_zip_opens_with_7z_and_the_password_and_not_without() {
    let scratch = Scratch::new();
    let pdf = render_pdf(&zszo_letter()).unwrap();
    let cipher = cipher_password().unwrap();
    let name = "dane-dostepowe-ZSZO-05-2026-000001.pdf";
    let zip = scratch.write(
        "letter.zip",
        &zip_aes(&pdf, name, cipher.expose_secret()).unwrap(),
    );

    let listing = tool_stdout(
        "7z",
        &[
            "l",
            "-slt",
            &format!("-p{}", cipher.expose_secret()),
            path_arg(&zip),
        ],
    );
    assert!(listing.contains(&format!("Path = {name}")), "{listing}");
    assert!(listing.contains("Encrypted = +"), "{listing}");
    assert!(
        listing.contains("Method = AES-256"),
        "not AES-256:\n{listing}"
    );

    let out_dir = scratch.path("out");
    let output = run(
        "7z",
        &[
            "x",
            "-y",
            &format!("-p{}", cipher.expose_secret()),
            &format!("-o{}", path_arg(&out_dir)),
            path_arg(&zip),
        ],
    );
    assert!(
        output.status.success(),
        "7z x with the password: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let extracted = out_dir.join(name);
    assert_eq!(
        std::fs::read(&extracted).unwrap(),
        pdf,
        "the ZIP gives back the letter byte for byte"
    );
    assert_reads_as_zszo_letter(&pdftotext(&extracted));

    for (label, password_arg) in [
        ("a wrong password", "-pwrong-password".to_owned()),
        ("no password", "-p".to_owned()),
    ] {
        let dir = scratch.path(&format!("denied-{}", label.len()));
        let output = run(
            "7z",
            &[
                "x",
                "-y",
                &password_arg,
                &format!("-o{}", path_arg(&dir)),
                path_arg(&zip),
            ],
        );
        assert!(
            !output.status.success(),
            "7z extracted the letter with {label}"
        );
        let got = std::fs::read(dir.join(name)).unwrap_or_default();
        assert_ne!(got, pdf, "7z wrote the letter with {label}");
    }

    let raw = std::fs::read(&zip).unwrap();
    assert!(!contains(&raw, b"%PDF"), "the PDF is stored in the clear");
    assert!(!contains(&raw, cipher.expose_secret().as_bytes()));
}

#[test]
fn cipher_passwords_are_16_unambiguous_gsm7_characters_and_never_repeat() {
    let alphabet: HashSet<char> = CIPHER_ALPHABET.chars().collect();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let password = cipher_password().unwrap();
        let password = password.expose_secret();
        assert_eq!(password.chars().count(), 16);
        assert!(
            password.chars().all(|c| alphabet.contains(&c)),
            "{password}"
        );
        assert!(
            !password.contains(['0', 'O', 'o', '1', 'l', 'I']),
            "{password}"
        );
        // GSM 03.38 basic set: plain ASCII letters and digits, one septet each.
        assert!(
            password.chars().all(|c| c.is_ascii_alphanumeric()),
            "{password}"
        );
        assert!(
            seen.insert(password.to_owned()),
            "a cipher password came twice"
        );
    }
    assert_ne!(
        cipher_password().unwrap().expose_secret(),
        cipher_password().unwrap().expose_secret()
    );
}

#[test]
fn a_cipher_password_does_not_show_in_debug_output() {
    let password = cipher_password().unwrap();
    assert!(!format!("{password:?}").contains(password.expose_secret()));
}

#[test]
fn a_letter_does_not_show_its_starting_password_in_debug_output() {
    let printed = format!("{:?}", zszo_letter());
    assert!(!printed.contains(STARTING_PASSWORD), "{printed}");
    assert!(printed.contains(LOGIN), "the rest is shown: {printed}");
}

#[test]
fn a_character_the_font_cannot_draw_is_refused_without_showing_it() {
    let mut letter = zszo_letter();
    letter.starting_password = SecretString::from("Ab3\u{E000}Xy7#kQ-2mP");
    let err = render_pdf(&letter).unwrap_err();
    assert!(
        matches!(
            err,
            LetterError::UnsupportedCharacter {
                field: "starting password"
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains('\u{E000}'));

    let mut letter = zszo_letter();
    letter.person = Some(PersonName {
        first_name: "Łukasz\u{7}".to_owned(),
        last_name: "Żak".to_owned(),
    });
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::UnsupportedCharacter {
            field: "first name"
        })
    ));
}

#[test]
fn a_password_or_login_with_white_space_is_refused_rather_than_printed_ambiguously() {
    let mut letter = zszo_letter();
    letter.starting_password = SecretString::from("Xy7# kQ-2mP_9aZ");
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::UnsupportedCharacter {
            field: "starting password"
        })
    ));
    let mut letter = zszo_letter();
    letter.login = "lukasz zak".to_owned();
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::UnsupportedCharacter { field: "login" })
    ));
}

#[test]
fn an_empty_value_is_refused_naming_the_field() {
    let mut letter = zszo_letter();
    letter.institution_name = "  ".to_owned();
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::EmptyField {
            field: "institution name"
        })
    ));
    let mut letter = zszo_letter();
    letter.starting_password = SecretString::from("");
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::EmptyField {
            field: "starting password"
        })
    ));
}

#[test]
fn a_password_too_long_for_one_line_is_refused_rather_than_broken() {
    let mut letter = zszo_letter();
    letter.starting_password = SecretString::from("A".repeat(60));
    assert!(matches!(
        render_pdf(&letter),
        Err(LetterError::DoesNotFit {
            field: "starting password"
        })
    ));
}

#[test]
fn a_long_institution_name_and_address_are_wrapped_in_their_column() {
    let scratch = Scratch::new();
    let mut letter = zszo_letter();
    letter.institution_name =
        "Zespół Szkół Ogólnokształcących nr 17 w Krakowie: Szkoła Podstawowa nr 162 \
         im. Jana Pawła II, XLVII Liceum Ogólnokształcące z Oddziałami Dwujęzycznymi \
         im. Ignacego Łukasiewicza"
            .to_owned();
    letter.portal_url = format!(
        "https://portal.zszo.example.pl/{}",
        "logowanie-pierwsze/".repeat(5)
    );
    let pdf = scratch.write("letter.pdf", &render_pdf(&letter).unwrap());
    let text = pdftotext(&pdf);
    assert_has(&text, "Ignacego Łukasiewicza");
    assert_has(&text, "Zespół Szkół Ogólnokształcących nr 17");
    assert_has_word(&text, STARTING_PASSWORD);
    // The address is broken between characters; joined up it is whole again.
    let joined: String = text.split_whitespace().collect();
    assert!(
        joined.contains(&letter.portal_url.replace(' ', "")),
        "{text}"
    );
}
