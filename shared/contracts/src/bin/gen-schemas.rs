//! Writes `proto-schemas/` from the contract types: `cargo run -p contracts --bin gen-schemas`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto-schemas");
    std::fs::create_dir_all(root.join("schemas/http"))?;
    for (name, content) in contracts::schemas::render() {
        std::fs::write(root.join(&name), content)?;
        println!("wrote proto-schemas/{name}");
    }
    Ok(())
}
