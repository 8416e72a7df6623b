use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    kit::run_service(
        console::SERVICE,
        console::BASE_CONFIG,
        |settings, stop| async move {
            console::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
