use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Some(code) = kit::openapi::command(revocation::http::openapi) {
        return code;
    }
    kit::run_service(
        revocation::SERVICE,
        revocation::BASE_CONFIG,
        |settings, stop| async move {
            revocation::Service::build(settings)
                .await?
                .run_until_stopped(stop)
                .await
        },
    )
    .await
}
