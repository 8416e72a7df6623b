//! A SEOD form from the bus: parsed here, then registered (or rejected) by
//! `crate::registration`, the same rules as an operator's request over HTTP.

use std::sync::Arc;

use contracts::forms;
use kit::clock::Clock;
use kit::consumer::{Handler, Incoming};

use crate::error::Error;
use sqlx::PgConnection;

use crate::registration::{register, reject};

pub struct FormsHandler {
    clock: Arc<dyn Clock>,
}

impl FormsHandler {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl Handler for FormsHandler {
    type Error = Error;

    async fn handle(&self, conn: &mut PgConnection, message: &Incoming) -> Result<(), Error> {
        let now = self.clock.now();
        let correlation = forms::correlation_id(&message.payload, message.publisher_message_id())
            .unwrap_or_else(|| format!("seq-{}", message.stream_sequence));
        match forms::parse_form(&message.subject, &message.payload) {
            Ok(request) => {
                let form: serde_json::Value = serde_json::from_slice(&message.payload)
                    .map_err(|e| Error::Unusable(format!("a parsed form is not JSON: {e}")))?;
                register(conn, &request, &form, now, None).await.map(|_| ())
            }
            Err(rejection) => reject(conn, &correlation, &message.subject, rejection, now).await,
        }
    }
}
