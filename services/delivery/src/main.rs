use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(delivery::http::openapi) {
        return code;
    }
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
