//! `klucznikctl audit …`: verification, records and checkpoints, over audit's HTTP API.

use std::time::Duration;

use crate::{AuditCommand, Failure};

pub async fn run(
    base: &str,
    token: Option<&str>,
    command: &AuditCommand,
    json: bool,
    timeout: Duration,
) -> Result<(), Failure> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Failure::Input("token zawiera niedozwolone znaki".into()))?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .default_headers(headers)
        .build()
        .map_err(|e| Failure::Unavailable(e.to_string()))?;
    let base = base.trim_end_matches('/');
    match command {
        AuditCommand::Verify {
            segment: Some(segment),
            checkpoints,
            public_key,
        } => verify_offline(segment, checkpoints, public_key.as_deref(), json),
        AuditCommand::Verify { .. } => verify(&client, base, json).await,
        AuditCommand::Events {
            case,
            institution,
            login,
            pesel,
            document,
            revocation_request,
            event_type,
            from,
            to,
            limit,
            after,
            csv,
        } => {
            let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
            for (key, value) in [
                ("case_number", case),
                ("institution_rspo_id", institution),
                ("login", login),
                ("pesel", pesel),
                ("document_id", document),
                ("revocation_request_id", revocation_request),
                ("event_type", event_type),
                ("from", from),
                ("to", to),
            ] {
                if let Some(value) = value {
                    query.push((key, value.clone()));
                }
            }
            if let Some(after) = after {
                query.push(("after_position", after.to_string()));
            }
            query.push(("format", if *csv { "csv" } else { "json" }.to_owned()));
            let response =
                send(client.get(format!("{base}/api/events")).query(&query), base).await?;
            print!("{}", response.text().await.unwrap_or_default());
            Ok(())
        }
        AuditCommand::Prune { out } => prune(&client, base, out).await,
        AuditCommand::Checkpoint { out } => {
            send(client.post(format!("{base}/api/checkpoints")), base).await?;
            let response = send(client.get(format!("{base}/api/checkpoints/latest")), base).await?;
            let body = response.text().await.unwrap_or_default();
            std::fs::write(out, &body)
                .map_err(|e| Failure::Input(format!("nie można zapisać {}: {e}", out.display())))?;
            println!("zapisano punkt kontrolny w {}", out.display());
            Ok(())
        }
    }
}

async fn send(request: reqwest::RequestBuilder, base: &str) -> Result<reqwest::Response, Failure> {
    let response = request.send().await.map_err(|e| {
        Failure::Unavailable(format!(
            "usługa audit pod adresem {base} nie odpowiada: {e}"
        ))
    })?;
    let status = response.status();
    if status.is_success() || status == reqwest::StatusCode::CONFLICT {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v["detail"]
                .as_str()
                .or(v["title"].as_str())
                .map(str::to_owned)
        })
        .unwrap_or(body);
    if status.is_client_error() {
        Err(Failure::Input(detail))
    } else {
        Err(Failure::Unavailable(format!(
            "audit odpowiedział {status}: {detail}"
        )))
    }
}

/// Verifies an exported segment with audit's own verifier, here: the records' hashes, their
/// order, and every given checkpoint's signature by `public_key` and its hash.
fn verify_offline(
    segment: &std::path::Path,
    checkpoints: &[std::path::PathBuf],
    public_key: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    use audit::domain::checkpoint::Checkpoint;
    let key = public_key.unwrap_or_default();
    let trusted = kit::auth::key_bytes_from_hex(key)
        .ok()
        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            Failure::Input(
                "--public-key: oczekiwano 64 znaków szesnastkowych klucza Ed25519".into(),
            )
        })?;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::Input(format!("nie można odczytać {}: {e}", path.display())))
    };
    let mut saved = Vec::new();
    for path in checkpoints {
        let checkpoint: Checkpoint = serde_json::from_str(&read(path)?).map_err(|e| {
            Failure::Input(format!(
                "{} nie jest punktem kontrolnym: {e}",
                path.display()
            ))
        })?;
        saved.push(checkpoint);
    }
    let text = read(segment)?;
    let mut records = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        records.push(audit::retention::parse_export_line(line).map_err(|e| {
            Failure::Input(format!("{}, wiersz {}: {e}", segment.display(), n + 1))
        })?);
    }
    // A segment that starts after the chain's beginning needs a checkpoint of its start.
    let start = records
        .first()
        .filter(|r| r.position > 1)
        .map(|r| (r.position - 1, r.prev_hash.clone()));
    let mut verifier = audit::domain::verify::Verifier::new(start, saved, &trusted);
    for record in &records {
        if !verifier.feed(record) {
            break;
        }
    }
    let report = serde_json::to_value(verifier.finish()).unwrap_or_default();
    print_report(&report, json)
}

async fn verify(client: &reqwest::Client, base: &str, json: bool) -> Result<(), Failure> {
    let response = send(client.get(format!("{base}/verify")), base).await?;
    let report: serde_json::Value = response
        .json()
        .await
        .map_err(|e| Failure::Unavailable(format!("nieczytelny raport weryfikacji: {e}")))?;
    print_report(&report, json)
}

fn print_report(report: &serde_json::Value, json: bool) -> Result<(), Failure> {
    if json {
        println!("{report}");
    } else {
        println!(
            "sprawdzono {} rekordów (pozycje {}–{}) i {} punktów kontrolnych",
            report["records_checked"],
            report["first_position"],
            report["last_position"],
            report["checkpoints_checked"]
        );
    }
    if report["valid"] == true {
        if !json {
            println!("łańcuch audytu jest nienaruszony");
        }
        Ok(())
    } else {
        let problem = &report["problem"];
        Err(Failure::Refused(format!(
            "łańcuch audytu NARUSZONY przy rekordzie {} ({}): {}",
            problem["position"],
            problem["kind"].as_str().unwrap_or("?"),
            problem["detail"].as_str().unwrap_or("")
        )))
    }
}

/// Exports the prunable segment, keeps it in `out`, and prunes it by proving the export's
/// SHA-256: the records leave the database only once they are safely in the file.
async fn prune(client: &reqwest::Client, base: &str, out: &std::path::Path) -> Result<(), Failure> {
    use sha2::Digest;
    let response = send(client.get(format!("{base}/api/retention/segment")), base).await?;
    let upto: i64 = response
        .headers()
        .get("klucznik-segment-upto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Failure::Unavailable("audit nie podał końca segmentu".into()))?;
    let export = response
        .bytes()
        .await
        .map_err(|e| Failure::Unavailable(format!("pobieranie segmentu przerwane: {e}")))?;
    std::fs::write(out, &export)
        .map_err(|e| Failure::Input(format!("nie można zapisać {}: {e}", out.display())))?;
    let written = std::fs::read(out)
        .map_err(|e| Failure::Input(format!("nie można odczytać {}: {e}", out.display())))?;
    let sha256 = hex::encode(sha2::Sha256::digest(&written));
    let body = serde_json::json!({ "upto_position": upto, "export_sha256": sha256 });
    send(
        client
            .post(format!("{base}/api/retention/prune"))
            .json(&body),
        base,
    )
    .await?;
    println!(
        "wyeksportowano i usunięto rekordy 1–{upto} ({} B, SHA-256 {sha256}) do {}",
        written.len(),
        out.display()
    );
    Ok(())
}
