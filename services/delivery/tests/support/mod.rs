//! What delivery's two test binaries (the dispatcher's, and the API's) share: delivery
//! running in-process (`TestDelivery`, on `test_support::InProcess`), the log capture for
//! the "no secret in the log" checks, a real SMTP server (aiosmtpd writing a Maildir) and
//! the mail as the mailbox got it.

// Each binary uses a part of this module.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use delivery::Settings;
use delivery::startup::{SmsGatewayKind, SmtpTls};
use mail_parser::{MessageParser, MimeHeaders};
use secrecy::SecretString;
use test_support::InProcess;
use test_support::free_port;
use wiremock::MockServer;

// ---------------------------------------------------------- the service ---

pub struct TestDelivery {
    service: InProcess<delivery::Service>,
    pub smtp: SmtpServer,
    pub gateway: MockServer,
    seal_secret: String,
    pub seal_public: [u8; 32],
}

/// The in-process service's database, NATS, URL and lifecycle.
impl std::ops::Deref for TestDelivery {
    type Target = InProcess<delivery::Service>;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}

impl std::ops::DerefMut for TestDelivery {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.service
    }
}

impl TestDelivery {
    /// Everything but the service itself.
    pub async fn create(gateway: MockServer, smtp: SmtpServer) -> Self {
        logs();
        let (secret, public) = kit::seal::keypair().unwrap();
        Self {
            service: InProcess::fresh("delivery").await,
            smtp,
            gateway,
            seal_secret: hex::encode(secret.as_slice()),
            seal_public: public,
        }
    }

    pub async fn start_on(
        gateway: MockServer,
        smtp: SmtpServer,
        tweak: impl FnOnce(&mut Settings),
    ) -> Self {
        let mut this = Self::create(gateway, smtp).await;
        let mut settings = this.settings();
        tweak(&mut settings);
        this.service.run(settings).await;
        this
    }

    /// The test platform's settings, with this test's seal key, SMTP server and gateway.
    pub fn settings(&self) -> Settings {
        let mut s = self.service.settings();
        let d = &mut s.delivery;
        d.seal_key = Some(SecretString::from(self.seal_secret.clone()));
        d.seal_key_file = None;
        d.retry.base_ms = 100;
        d.dispatch.poll_interval_ms = 100;
        d.smtp.host = "127.0.0.1".into();
        d.smtp.port = self.smtp.port;
        d.smtp.tls = SmtpTls::None;
        d.smtp.timeout_secs = 5;
        d.sms.kind = SmsGatewayKind::Generic;
        d.sms.url = format!("{}/sms", self.gateway.uri());
        d.sms.timeout_secs = 5;
        s
    }
}

// ------------------------------------------------------------------ logs ---

/// Everything every service in this test binary logs, for the "no secret in the log" checks.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The log of the service (and its libraries) at debug level. The test doubles' own
/// logging is off: wiremock would record the SMS it received, which is the test's business.
pub fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,wiremock=off,hyper=off,hyper_util=off,h2=off,async_nats=info",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("one log subscriber for the test binary");
        buffer
    })
}

// ------------------------------------------------------------ tools -----

pub fn scratch(label: &str) -> PathBuf {
    test_support::scratch_dir(&format!("delivery-{label}"))
}

/// The tools venv's Python, which has aiosmtpd (`make deps` installs it).
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("KLUCZNIK_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    if let Some(venv) = std::env::var_os("KLUCZNIK_TOOLS_VENV") {
        return PathBuf::from(venv).join("bin/python");
    }
    test_support::workspace_root().join(".local/tools/venv/bin/python")
}

pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); install it: apt-get install qpdf poppler-utils p7zip-full")
        })
}

/// A real SMTP server: aiosmtpd storing each message in a Maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Child,
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        Self::spawn(port, "aiosmtpd.handlers.Mailbox")
    }

    /// A relay that refuses, for good, every recipient whose address starts `nieznany@`
    /// (550 5.1.1, as for a mailbox that does not exist) and stores the rest.
    pub fn start_refusing_unknown_mailboxes() -> Self {
        Self::spawn(free_port(), "klucznik_test_smtp.RefusingMailbox")
    }

    fn spawn(port: u16, handler: &str) -> Self {
        let dir = scratch("smtp");
        // aiosmtpd makes the Maildir's tmp/new/cur only when the directory does not exist.
        let maildir = dir.join("maildir");
        std::fs::write(
            dir.join("klucznik_test_smtp.py"),
            "from aiosmtpd.handlers import Mailbox\n\n\
             class RefusingMailbox(Mailbox):\n\
             \x20   async def handle_RCPT(self, server, session, envelope, address, options):\n\
             \x20       if address.startswith('nieznany@'):\n\
             \x20           return '550 5.1.1 No such mailbox'\n\
             \x20       envelope.rcpt_tos.append(address)\n\
             \x20       return '250 OK'\n",
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("aiosmtpd.log")).unwrap();
        let python = python();
        let child = Command::new(&python)
            .env("PYTHONPATH", &dir)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", handler])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start aiosmtpd with {} ({e}); run `make deps` or set KLUCZNIK_TEST_PYTHON",
                    python.display()
                )
            });
        let mut server = Self {
            port,
            maildir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("aiosmtpd exited ({status}); see {}", dir.display());
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start; see {}",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .map(|e| e.unwrap().path())
            .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| Mail::parse(std::fs::read(p).unwrap()))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message as the mailbox got it.
pub struct Mail {
    pub raw: Vec<u8>,
    /// The SMTP envelope's recipient (aiosmtpd's `X-RcptTo`).
    pub envelope_to: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    /// Each attachment's name and content.
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Mail {
    fn parse(raw: Vec<u8>) -> Self {
        let message = MessageParser::default()
            .parse(&raw)
            .expect("a MIME message");
        let parsed = Mail {
            envelope_to: message
                .header_raw("X-RcptTo")
                .unwrap_or("")
                .trim()
                .to_owned(),
            to: message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or("")
                .to_owned(),
            subject: message.subject().unwrap_or("").to_owned(),
            message_id: message.message_id().unwrap_or("").to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            attachments: message
                .attachments()
                .map(|a| {
                    (
                        a.attachment_name().unwrap_or("").to_owned(),
                        a.contents().to_vec(),
                    )
                })
                .collect(),
            raw: Vec::new(),
        };
        // The parsed parts borrow `raw` no more: keep the message as it arrived too.
        Mail { raw, ..parsed }
    }

    /// The message as it arrived, as text.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    pub fn only_attachment(&self) -> (&str, &[u8]) {
        assert_eq!(self.attachments.len(), 1, "one attachment");
        let (name, bytes) = &self.attachments[0];
        (name, bytes)
    }
}
