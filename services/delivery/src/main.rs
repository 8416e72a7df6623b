use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    kit::run_service(
        delivery::SERVICE,
        delivery::BASE_CONFIG,
        |settings, stop| async move {
            delivery::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
