//! Procedure C for the run: employees of SP 7 without an account, each to get one from the
//! director (the school's local administrator), sign in with the sheet's starting password,
//! set his own, give an e-mail address and confirm it from the message delivery sends.

use test_support::System;

const SURNAMES: [&str; 12] = [
    "Adamska", "Bielska", "Cieślak", "Dudek", "Ezman", "Fijałek", "Gołąb", "Hajduk", "Iwańska",
    "Jurek", "Kłos", "Lipiec",
];

pub fn surname(n: usize) -> &'static str {
    SURNAMES[(n - 1) % SURNAMES.len()]
}

pub fn email(n: usize) -> String {
    format!("pracownik.{n}@sp7.edu.krakow.pl")
}

pub fn import(system: &System, employees: usize) {
    assert!(
        employees <= SURNAMES.len(),
        "at most {} accounts",
        SURNAMES.len()
    );
    let file = test_support::scratch_dir("chaos-staff").join("staff.csv");
    let mut csv = String::from("rspo_id,first_name,last_name,pesel,position,employment,login\n");
    for n in 1..=employees {
        let pesel = test_support::pesel_with_check_digit(&format!("9203{:02}{:04}", n, 2000 + n));
        csv.push_str(&format!(
            "12345,Celina,{},{pesel},nauczycielka,zatrudniona,\n",
            surname(n)
        ));
    }
    std::fs::write(&file, csv).expect("a scratch file");
    test_support::system::accounts_command(
        system.services["accounts"].env(),
        &["import-staff", &file.to_string_lossy()],
        "",
    );
}
