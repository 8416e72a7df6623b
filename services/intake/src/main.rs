use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(intake::http::openapi) {
        return code;
    }
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
