//! `make bench`: runs the release binaries against a fresh nats-server and PostgreSQL and
//! prints sustained rates. Figures only: nothing here asserts a timing.

mod audit;
mod bus;
mod letter;
mod pipeline;
mod staff;
mod usage;

#[tokio::main]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".to_owned());
    println!(
        "klucznik benchmarks ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if matches!(which.as_str(), "all" | "audit") {
        audit::run().await;
    }
    if matches!(which.as_str(), "all" | "bus") {
        bus::run().await;
    }
    if matches!(which.as_str(), "all" | "letter") {
        letter::run();
    }
    if matches!(which.as_str(), "all" | "pipeline") {
        pipeline::run().await;
    }
    if matches!(which.as_str(), "all" | "staff") {
        staff::run().await;
    }
}
