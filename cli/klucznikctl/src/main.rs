//! klucznikctl: submit SEOD forms as SEOD would, and follow the cases they become.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use clap::{Parser, Subcommand};
use contracts::permissions::Identity;
use contracts::query::{CaseQuery, CaseQueryReply, CaseView};
use contracts::seod_status::{CaseStatus, SeodStatus};
use contracts::{forms, streams, subjects};
use futures::StreamExt;

#[derive(Parser)]
#[command(
    name = "klucznikctl",
    version,
    about = "Submit SEOD forms and follow Klucznik cases"
)]
struct Cli {
    /// NATS server of the Klucznik bus.
    #[arg(
        long,
        env = "KLUCZNIK_NATS__URL",
        default_value = "nats://127.0.0.1:4223",
        global = true
    )]
    nats_url: String,
    /// This command line's NATS identity: a file with its nkey seed (`nats init` makes one;
    /// `nats provision` needs the provisioner's). Without it, the bus must be anonymous.
    #[arg(long, env = "KLUCZNIK_NATS__NKEY_SEED_FILE", global = true)]
    nkey_seed_file: Option<PathBuf>,
    /// The CA that signed the NATS server's certificate (PEM): the connection then requires
    /// TLS and verifies the server against it, as the services do in production.
    #[arg(long, env = "KLUCZNIK_NATS__TLS_CA_FILE", global = true)]
    nats_tls_ca_file: Option<PathBuf>,
    /// How long to wait for an answer, in seconds.
    #[arg(long, default_value_t = 30, global = true)]
    timeout: u64,
    /// Print answers as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Publish a SEOD form and print the case number or the rejection.
    Submit {
        file: PathBuf,
        /// Publish the file's bytes unchecked, as a broken SEOD might.
        #[arg(long)]
        raw: bool,
        /// Subject for --raw (default: the ZSZO-05 form's subject).
        #[arg(long, requires = "raw")]
        subject: Option<String>,
    },
    /// Print a case's current status and history.
    Status { case: String },
    /// Follow a case's statuses until it ends.
    Watch { case: String },
    /// Prints the X25519 public key of a sealing secret (64 hex) read from a file, e.g. to
    /// give accounts the key it seals new credentials to.
    SealPublicKey { secret_file: PathBuf },
    /// The bus's identities and streams.
    Nats {
        #[command(subcommand)]
        command: NatsCommand,
    },
    /// Questions for the audit record.
    Audit {
        /// The audit service.
        #[arg(
            long,
            env = "KLUCZNIK_AUDIT_URL",
            default_value = "http://127.0.0.1:8085"
        )]
        audit_url: String,
        /// A staff token (auditor or administrator) from accounts' staff sign-in; only the
        /// chain's verification and its newest checkpoint are open without one.
        #[arg(long, env = "KLUCZNIK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum NatsCommand {
    /// Make an nkey seed for every party that lacks one in DIR (`<party>.nk`, mode 600),
    /// and write DIR/auth.conf: the nats-server `authorization` block giving each its
    /// permissions. Give each service only its own seed.
    Init { dir: PathBuf },
    /// Create every stream, or bring it to its declared configuration (as the provisioner).
    Provision {
        #[arg(long, default_value_t = 1)]
        replicas: usize,
    },
    /// List the dead letters: number, service, original subject, deliveries, error (as the
    /// provisioner: `--nkey-seed-file provisioner.nk`).
    DeadLetters,
    /// Publish dead letter SEQ again on its original subject, once its cause is fixed: the
    /// consumers that handled it skip it, the one that gave up handles it again (as the
    /// provisioner).
    Replay { sequence: u64 },
}

#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the whole chain and its checkpoints; names the first bad record. With
    /// --segment, verify an exported segment here, on this machine, against audit's public
    /// key and saved checkpoints, without asking (or trusting) the server.
    Verify {
        /// An exported segment (JSON lines, from `audit prune --out` or the retention export).
        #[arg(long, requires = "public_key")]
        segment: Option<PathBuf>,
        /// A saved checkpoint (`audit checkpoint --out`, or audit's checkpoint file); repeatable.
        #[arg(long = "checkpoint", requires = "segment")]
        checkpoints: Vec<PathBuf>,
        /// audit's Ed25519 public key, 64 hex characters, obtained out of band.
        #[arg(long, requires = "segment")]
        public_key: Option<String>,
    },
    /// Records matching every given criterion, oldest first.
    Events {
        #[arg(long)]
        case: Option<String>,
        #[arg(long)]
        institution: Option<String>,
        /// The person concerned or the person acting.
        #[arg(long)]
        login: Option<String>,
        #[arg(long)]
        pesel: Option<String>,
        #[arg(long)]
        document: Option<String>,
        #[arg(long)]
        revocation_request: Option<String>,
        #[arg(long)]
        event_type: Option<String>,
        /// RFC 3339, inclusive.
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339, exclusive.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// Only records after this position (for paging).
        #[arg(long)]
        after: Option<i64>,
        /// CSV instead of JSON.
        #[arg(long)]
        csv: bool,
    },
    /// Sign the chain's head now and save the newest checkpoint to a file.
    Checkpoint {
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the records older than the retention period to a file, then prune them.
    Prune {
        #[arg(long)]
        out: PathBuf,
    },
}

mod audit;
mod dead_letters;

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unavailable(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Refused(_) => 1,
            Failure::Input(_) => 2,
            Failure::Unavailable(_) => 3,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    kit::main_support::install_crypto_provider();
    let cli = Cli::parse();
    let timeout = Duration::from_secs(cli.timeout);
    let result = match &cli.command {
        Command::Submit { file, raw, subject } => {
            submit(&cli, file, *raw, subject.as_deref(), timeout).await
        }
        Command::Status { case } => status(&cli, case, timeout).await,
        Command::Watch { case } => watch(&cli, case, timeout).await,
        Command::SealPublicKey { secret_file } => seal_public_key(secret_file),
        Command::Nats { command } => nats_command(&cli, command).await,
        Command::Audit {
            audit_url,
            token,
            command,
        } => audit::run(audit_url, token.as_deref(), command, cli.json, timeout).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("klucznikctl: {failure}");
            ExitCode::from(failure.code())
        }
    }
}

async fn nats_command(cli: &Cli, command: &NatsCommand) -> Result<(), Failure> {
    match command {
        NatsCommand::Init { dir } => {
            kit::nats_auth::init_dir(dir)
                .map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
            println!("{}", dir.join("auth.conf").display());
            Ok(())
        }
        NatsCommand::Provision { replicas } => {
            let client = connect_as(cli, Identity::Provisioner).await?;
            kit::nats::provision_streams(&jetstream::new(client), *replicas)
                .await
                .map_err(|e| Failure::Unavailable(e.to_string()))?;
            println!("{} streams ready", streams::ALL.len());
            Ok(())
        }
        NatsCommand::DeadLetters => {
            let client = connect_as(cli, Identity::Provisioner).await?;
            dead_letters::list(&jetstream::new(client)).await
        }
        NatsCommand::Replay { sequence } => {
            let client = connect_as(cli, Identity::Provisioner).await?;
            dead_letters::replay(&jetstream::new(client), *sequence).await
        }
    }
}

async fn connect(cli: &Cli) -> Result<async_nats::Client, Failure> {
    connect_as(cli, Identity::Klucznikctl).await
}

async fn connect_as(cli: &Cli, identity: Identity) -> Result<async_nats::Client, Failure> {
    let url = &cli.nats_url;
    let mut options = match &cli.nkey_seed_file {
        Some(file) => {
            let seed = std::fs::read_to_string(file).map_err(|e| {
                Failure::Input(format!(
                    "nie można odczytać klucza NATS {}: {e}",
                    file.display()
                ))
            })?;
            async_nats::ConnectOptions::with_nkey(seed.trim().to_owned())
        }
        None => async_nats::ConnectOptions::new(),
    };
    if let Some(ca) = &cli.nats_tls_ca_file {
        if !ca.is_file() {
            return Err(Failure::Input(format!(
                "nie ma pliku certyfikatu CA serwera NATS {}",
                ca.display()
            )));
        }
        options = options.require_tls(true).add_root_certificates(ca.clone());
    }
    options = options
        .custom_inbox_prefix(identity.inbox_prefix())
        .name("klucznikctl")
        .connection_timeout(Duration::from_secs(5));
    match tokio::time::timeout(
        Duration::from_secs(6),
        options.connect(kit::nats::server_urls(url)),
    )
    .await
    {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(Failure::Unavailable(format!(
            "nie można połączyć się z NATS pod adresem {url}: {e}"
        ))),
        Err(_) => Err(Failure::Unavailable(format!(
            "NATS pod adresem {url} nie odpowiada"
        ))),
    }
}

async fn submit(
    cli: &Cli,
    file: &PathBuf,
    raw: bool,
    subject: Option<&str>,
    timeout: Duration,
) -> Result<(), Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::Input(format!("nie można odczytać pliku {}: {e}", file.display())))?;
    let (subject, message_id) = if raw {
        let subject = subject
            .unwrap_or(subjects::SEOD_FORM_ZSZO_PASSWORD_RESET)
            .to_owned();
        (subject, uuid::Uuid::new_v4().to_string())
    } else {
        let subject = subject_for(&bytes, file)?;
        let request = forms::parse_form(subject, &bytes).map_err(|r| {
            Failure::Input(format!(
                "formularz {} jest niepoprawny: pole `{}`: {} ({})",
                file.display(),
                r.field,
                r.message,
                r.code
            ))
        })?;
        (subject.to_owned(), request.document_id.to_string())
    };
    let correlation =
        forms::correlation_id(&bytes, Some(&message_id)).unwrap_or(message_id.clone());

    let client = connect(cli).await?;
    let js = jetstream::new(client);
    let mut statuses = status_feed(&js, &correlation, consumer::DeliverPolicy::New).await?;
    let ack = js
        .send_publish(
            subject.clone(),
            PublishMessage::build()
                .payload(bytes.into())
                .message_id(&message_id),
        )
        .await
        .map_err(|e| {
            Failure::Unavailable(format!("publikacja na {subject} nie powiodła się: {e}"))
        })?
        .await
        .map_err(|e| {
            Failure::Unavailable(format!(
                "JetStream nie potwierdził przyjęcia formularza: {e}"
            ))
        })?;
    if ack.duplicate {
        eprintln!(
            "klucznikctl: ten dokument został już wcześniej przesłany; pokazuję jego ostatni status"
        );
        statuses = status_feed(&js, &correlation, consumer::DeliverPolicy::LastPerSubject).await?;
    }
    let status = next_status(&mut statuses, timeout).await?.ok_or_else(|| {
        Failure::Unavailable(format!(
            "brak odpowiedzi w ciągu {} s (czy działa usługa intake?)",
            timeout.as_secs()
        ))
    })?;
    print_status(cli, &status);
    match status.status {
        CaseStatus::Rejected | CaseStatus::Failed | CaseStatus::Expired => {
            Err(Failure::Refused(describe(&status)))
        }
        _ => Ok(()),
    }
}

fn subject_for(bytes: &[u8], file: &Path) -> Result<&'static str, Failure> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Failure::Input(format!(
            "plik {} nie jest poprawnym JSON: {e}",
            file.display()
        ))
    })?;
    match value.get("form").and_then(|f| f.as_str()) {
        Some("zszo.password-reset") => Ok(subjects::SEOD_FORM_ZSZO_PASSWORD_RESET),
        Some("pzo.password-reset") => Ok(subjects::SEOD_FORM_PZO_PASSWORD_RESET),
        Some(other) => Err(Failure::Input(format!(
            "nieznany rodzaj formularza `{other}` w {}",
            file.display()
        ))),
        None => Err(Failure::Input(format!(
            "brak pola `form` w {}",
            file.display()
        ))),
    }
}

type Feed = consumer::pull::Ordered;

async fn status_feed(
    js: &jetstream::Context,
    correlation: &str,
    policy: consumer::DeliverPolicy,
) -> Result<Feed, Failure> {
    let stream = js
        .get_stream(streams::SEOD_STATUS.name)
        .await
        .map_err(|e| {
            Failure::Unavailable(format!(
                "strumień {} jest niedostępny (czy działa usługa intake?): {e}",
                streams::SEOD_STATUS.name
            ))
        })?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subjects::seod_status(correlation),
            deliver_policy: policy,
            ..Default::default()
        })
        .await
        .map_err(|e| Failure::Unavailable(format!("nie można śledzić statusów: {e}")))?;
    consumer
        .messages()
        .await
        .map_err(|e| Failure::Unavailable(format!("nie można śledzić statusów: {e}")))
}

async fn next_status(feed: &mut Feed, timeout: Duration) -> Result<Option<SeodStatus>, Failure> {
    match tokio::time::timeout(timeout, feed.next()).await {
        Err(_) | Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(Failure::Unavailable(format!(
            "odczyt statusu nie powiódł się: {e}"
        ))),
        Ok(Some(Ok(message))) => serde_json::from_slice(&message.payload)
            .map(Some)
            .map_err(|e| Failure::Unavailable(format!("nieczytelny status: {e}"))),
    }
}

fn describe(status: &SeodStatus) -> String {
    match (&status.status, &status.rejection, &status.case_number) {
        (_, Some(r), _) => format!("odrzucono: pole `{}`: {} ({})", r.field, r.message, r.code),
        (s, None, Some(case)) => format!("sprawa {case}: {}", s.as_str()),
        (s, None, None) => format!("dokument {}: {}", status.document_id, s.as_str()),
    }
}

fn print_status(cli: &Cli, status: &SeodStatus) {
    if cli.json {
        println!("{}", serde_json::to_string(status).unwrap_or_default());
    } else if let (CaseStatus::Registered, Some(case)) = (status.status, &status.case_number) {
        println!("{case}");
    } else {
        println!("{}", describe(status));
    }
}

async fn query_case(
    cli: &Cli,
    case: &str,
    timeout: Duration,
) -> Result<(async_nats::Client, CaseView), Failure> {
    let client = connect(cli).await?;
    let body = serde_json::to_vec(&CaseQuery {
        case_number: case.to_owned(),
    })
    .unwrap_or_default();
    let reply = tokio::time::timeout(
        timeout,
        client.request(subjects::QUERY_INTAKE_CASE, body.into()),
    )
    .await
    .map_err(|_| Failure::Unavailable("usługa intake nie odpowiedziała".into()))?
    .map_err(|e| {
        Failure::Unavailable(format!(
            "zapytanie o sprawę nie powiodło się (czy działa usługa intake?): {e}"
        ))
    })?;
    match serde_json::from_slice::<CaseQueryReply>(&reply.payload) {
        Ok(CaseQueryReply::Found { case }) => Ok((client, *case)),
        Ok(CaseQueryReply::NotFound { message }) => Err(Failure::Refused(message)),
        Ok(CaseQueryReply::Invalid { message }) => Err(Failure::Input(message)),
        Err(e) => Err(Failure::Unavailable(format!(
            "nieczytelna odpowiedź intake: {e}"
        ))),
    }
}

async fn status(cli: &Cli, case: &str, timeout: Duration) -> Result<(), Failure> {
    let (_, view) = query_case(cli, case, timeout).await?;
    if cli.json {
        println!("{}", serde_json::to_string(&view).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{} ({}, dokument SEOD {}): {}",
        view.case_number,
        view.procedure,
        view.document_id,
        view.status.as_str()
    );
    for entry in &view.history {
        println!("  {}  {}", entry.at.to_rfc3339(), entry.status.as_str());
    }
    if let Some(reason) = &view.reason {
        println!(
            "  powód ({}, pole {}): {}",
            reason.code, reason.field, reason.message
        );
    }
    Ok(())
}

async fn watch(cli: &Cli, case: &str, timeout: Duration) -> Result<(), Failure> {
    let (client, view) = query_case(cli, case, timeout).await?;
    let js = jetstream::new(client);
    let mut feed = status_feed(&js, &view.document_id, consumer::DeliverPolicy::All).await?;
    loop {
        match next_status(&mut feed, timeout).await? {
            Some(status) => {
                if cli.json {
                    println!("{}", serde_json::to_string(&status).unwrap_or_default());
                } else {
                    println!(
                        "{}  {}  {}",
                        status.at.to_rfc3339(),
                        status.status.as_str(),
                        describe(&status)
                    );
                }
                if status.status.is_terminal() {
                    return Ok(());
                }
            }
            None => {
                return Err(Failure::Unavailable(format!(
                    "sprawa {case} nie zmieniła statusu przez {} s",
                    timeout.as_secs()
                )));
            }
        }
    }
}

fn seal_public_key(file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Input(format!("nie można odczytać {}: {e}", file.display())))?;
    let secret = kit::auth::key_bytes_from_hex(&text)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    println!("{}", hex::encode(kit::seal::public_of(&secret)));
    Ok(())
}
