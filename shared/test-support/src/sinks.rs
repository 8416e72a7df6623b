//! Real servers standing in for the outside parties: an SMTP server (Python's aiosmtpd, a
//! real SMTP implementation, writing a Maildir) and an HTTP server for the SMS gateway.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;

pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

fn python() -> String {
    std::env::var("KLUCZNIK_TEST_PYTHON").unwrap_or_else(|_| {
        crate::workspace_root()
            .join(".local/tools/venv/bin/python")
            .to_string_lossy()
            .into_owned()
    })
}

impl SmtpSink {
    pub fn start() -> Self {
        let port = crate::free_port();
        // aiosmtpd makes the Maildir's folders only when the directory does not exist yet.
        let maildir = crate::scratch_dir("mail").join("maildir");
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd ({e}); run `make deps`"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            maildir,
            child,
        }
    }

    /// Every message received so far, raw (RFC 5322).
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|f| std::fs::read(f).ok())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP server that records every request body it is sent and answers as configured.
pub struct SmsSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<String>>>,
    /// When each accepted request arrived, in the same order.
    pub arrivals: Arc<Mutex<Vec<Instant>>>,
    /// Status codes to answer with, one per request, then 200.
    pub script: Arc<Mutex<Vec<u16>>>,
    /// Requests repeating a reference already sent (answered as sent, not sent again).
    pub repeats: Arc<std::sync::atomic::AtomicUsize>,
}

impl SmsSink {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let script: Arc<Mutex<Vec<u16>>> = Arc::default();
        let repeats: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let (r, s, a, n) = (
            Arc::clone(&received),
            Arc::clone(&script),
            Arc::clone(&arrivals),
            Arc::clone(&repeats),
        );
        let app = Router::new().fallback(post(move |body: String| {
            let (r, s, a, repeats) = (
                Arc::clone(&r),
                Arc::clone(&s),
                Arc::clone(&a),
                Arc::clone(&n),
            );
            async move {
                let status = {
                    let mut s = s.lock().unwrap();
                    if s.is_empty() { 200 } else { s.remove(0) }
                };
                if status == 200 {
                    let mut r = r.lock().unwrap();
                    // As SMSAPI's `idx` with `check_idx`: a message whose reference was sent
                    // already is answered as sent and not sent again.
                    let reference = |body: &str| {
                        serde_json::from_str::<serde_json::Value>(body)
                            .ok()
                            .and_then(|v| v["id"].as_str().map(str::to_owned))
                    };
                    let again = reference(&body)
                        .is_some_and(|id| r.iter().any(|b| reference(b).as_ref() == Some(&id)));
                    if again {
                        repeats.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    } else {
                        r.push(body);
                        a.lock().unwrap().push(Instant::now());
                    }
                }
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    r#"{"status":"queued","count":1,"list":[{"id":"1","status":"QUEUE"}]}"#,
                )
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            port,
            received,
            arrivals,
            script,
            repeats,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sms", self.port)
    }

    pub fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}
