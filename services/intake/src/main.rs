use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    kit::run_service(
        intake::SERVICE,
        intake::BASE_CONFIG,
        |settings, stop| async move {
            intake::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
