use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(audit::http::openapi) {
        return code;
    }
    kit::run_service(
        audit::SERVICE,
        audit::BASE_CONFIG,
        |settings, stop| async move {
            audit::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
