//! delivery's share of a case, without I/O: render the letter, encrypt it with a fresh
//! cipher password (AES-256 PDF, and the ZIP alternative).

use std::time::Instant;

use delivery::letter::{
    AccountKind, LetterContent, PersonName, cipher_password, encrypt_pdf, render_pdf, zip_aes,
};
use secrecy::{ExposeSecret, SecretString};

fn letter() -> LetterContent {
    LetterContent {
        institution_name: "Szkoła Podstawowa nr 7 im. Marii Skłodowskiej-Curie w Krakowie"
            .to_owned(),
        person: Some(PersonName {
            first_name: "Łukasz".to_owned(),
            last_name: "Żak".to_owned(),
        }),
        login: "lzak".to_owned(),
        starting_password: SecretString::from("Xy7kQ2mP9aZtRw"),
        portal_url: "https://portal.zszo.example.pl/logowanie".to_owned(),
        expires_at: chrono::DateTime::UNIX_EPOCH,
        case_number: "ZSZO-05/2026/000001".to_owned(),
        account: AccountKind::ZszoUser,
    }
}

fn per_call(runs: u32, mut f: impl FnMut()) -> f64 {
    f();
    let started = Instant::now();
    for _ in 0..runs {
        f();
    }
    started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
}

/// delivery's unavoidable CPU for one electronic case, in seconds: rendering the letter and
/// encrypting it (AES-256 PDF, the default package).
pub fn unavoidable_secs() -> f64 {
    let content = letter();
    let pdf = render_pdf(&content).unwrap();
    let password = cipher_password().unwrap();
    let render = per_call(30, || {
        render_pdf(&content).unwrap();
    });
    let encrypt = per_call(30, || {
        encrypt_pdf(&pdf, password.expose_secret()).unwrap();
    });
    (render + encrypt) / 1000.0
}

pub fn run() {
    let content = letter();
    let pdf = render_pdf(&content).unwrap();
    let runs = 100;
    let render = per_call(runs, || {
        render_pdf(&content).unwrap();
    });
    let password = cipher_password().unwrap();
    let encrypt = per_call(runs, || {
        encrypt_pdf(&pdf, password.expose_secret()).unwrap();
    });
    let zip = per_call(runs, || {
        zip_aes(&pdf, "dane-dostepowe.pdf", password.expose_secret()).unwrap();
    });
    println!(
        "letter: render {render:.2} ms, AES-256 PDF {encrypt:.2} ms, AES-256 ZIP {zip:.2} ms \
         ({} bytes of PDF)",
        pdf.len()
    );
}
