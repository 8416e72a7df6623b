//! The console's own stylesheet, served under a name that carries its hash: a new version
//! is a new address, so it may be cached for a year.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../static/console.css");

/// `/static/console-<hash>.css`.
pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| {
    let hash = hex::encode(&Sha256::digest(CSS.as_bytes())[..8]);
    format!("/static/console-{hash}.css")
});

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
}
