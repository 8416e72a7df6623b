use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    kit::run_service(
        accounts::SERVICE,
        accounts::BASE_CONFIG,
        |settings, stop| async move {
            accounts::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
