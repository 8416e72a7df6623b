//! `proto-schemas/` is what integrators read: it must match the types exactly.

use std::path::PathBuf;

#[test]
fn proto_schemas_match_the_contract_types() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto-schemas");
    let mut stale = Vec::new();
    for (name, expected) in contracts::schemas::render() {
        match std::fs::read_to_string(root.join(&name)) {
            Ok(actual) if actual == expected => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "proto-schemas/ is stale ({stale:?}); run `make schemas` and commit the result"
    );
}

#[test]
fn every_example_form_parses_as_its_name_says() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto-schemas/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        let subject = if name.starts_with("pzo") {
            contracts::subjects::SEOD_FORM_PZO_PASSWORD_RESET
        } else {
            contracts::subjects::SEOD_FORM_ZSZO_PASSWORD_RESET
        };
        let parsed = contracts::forms::parse_form(subject, &bytes);
        if name.contains("invalid") {
            assert!(parsed.is_err(), "{name} should be refused");
        } else {
            assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
        }
    }
    assert!(seen >= 3);
}
