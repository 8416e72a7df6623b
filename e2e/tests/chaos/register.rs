//! The run's own people for procedure D: employees of SP 7 whose authorisations Kraków's
//! first local database granted, each to be revoked once.

use test_support::System;

/// A valid PESEL (checksum and all) for the `n`-th person of the run.
fn pesel(n: usize) -> String {
    test_support::pesel_with_check_digit(&format!("8001{:02}{:04}", 1 + n % 28, 1000 + n))
}

pub fn authorisation_id(n: usize) -> String {
    format!("UPW-CHAOS-{n:02}")
}

pub fn import(system: &System, revocations: usize) {
    let file = test_support::scratch_dir("chaos-register").join("register.jsonl");
    let mut lines = String::new();
    for n in 1..=revocations {
        lines.push_str(&format!(
            "{{\"type\":\"person\",\"id\":\"os-chaos-{n}\",\"first_name\":\"Jan\",\"last_name\":\"Próbny {n}\",\"pesel\":\"{}\"}}\n\
             {{\"type\":\"employee\",\"person\":\"os-chaos-{n}\",\"unit\":\"SP7\",\"position\":\"nauczyciel\"}}\n\
             {{\"type\":\"authorisation\",\"id\":\"{}\",\"person\":\"os-chaos-{n}\",\"unit\":\"SP7\",\"granted_in\":\"LBD-KRK-1\",\"approved_by\":\"os-anowak\",\"approved_at\":\"2025-09-01\",\"scope\":\"przekazywanie danych szkoły do bazy danych SIO\"}}\n",
            pesel(n),
            authorisation_id(n),
        ));
    }
    std::fs::write(&file, lines).expect("a scratch file");
    test_support::system::service_command(
        "revocation",
        system.services["revocation"].env(),
        &["import", &file.to_string_lossy()],
        "",
    );
}

#[test]
fn the_runs_pesels_are_valid() {
    for n in 1..=99 {
        let pesel = pesel(n);
        assert_eq!(pesel.len(), 11);
        assert!(contracts::values::Pesel::parse(&pesel).is_ok(), "{pesel}");
    }
}
