//! A PostgreSQL server of a test's own (initdb in a scratch directory, a free port), for
//! tests that stop and restart it: the shared server of the other tests is left alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct PrivatePostgres {
    pub port: u16,
    data: PathBuf,
    log: PathBuf,
    bindir: PathBuf,
    /// initdb and postgres refuse to run as root: then they run as the OS user postgres.
    as_postgres: bool,
}

/// Where PostgreSQL's server programs are: `KLUCZNIK_TEST_PG_BINDIR`, `pg_config --bindir`
/// when it has `pg_ctl`, or the newest `/usr/lib/postgresql/*/bin` (Debian).
fn bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("KLUCZNIK_TEST_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|d| d.join("pg_ctl").exists());
    if let Some(dir) = from_pg_config {
        return dir;
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| d.join("pg_ctl").exists())
        .collect();
    debian.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    debian
        .pop()
        .expect("PostgreSQL's server programs (pg_ctl, initdb): run `make deps`")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let as_postgres = is_root();
        // Under /var/tmp: the OS user postgres may not reach a checkout under /root.
        let base = if as_postgres {
            PathBuf::from("/var/tmp").join(format!("klucznik-pg-{}", uuid::Uuid::new_v4().simple()))
        } else {
            crate::scratch_dir("postgres")
        };
        std::fs::create_dir_all(&base).expect("a directory for PostgreSQL");
        let server = Self {
            port: crate::free_port(),
            data: base.join("data"),
            log: base.join("postgres.log"),
            bindir: bindir(),
            as_postgres,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:", base.to_str().unwrap()])
                .status()
                .expect("chown");
            assert!(chown.success(), "chown {} to postgres", base.display());
        }
        server.run(
            "initdb",
            &[
                "-D",
                server.data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        server.start_server();
        server
    }

    /// The URL tests create their databases through (`TestDatabase::create_on`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bindir.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command
            .args(args)
            .current_dir("/")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, action: &str, mode: Option<&str>) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 -c fsync=on",
            self.port
        );
        let mut args = vec![
            action,
            "-D",
            self.data.to_str().unwrap(),
            "-l",
            self.log.to_str().unwrap(),
            "-o",
            &options,
            "-w",
            "-t",
            "60",
        ];
        if let Some(mode) = mode {
            args.extend(["-m", mode]);
        }
        self.run("pg_ctl", &args);
    }

    fn start_server(&self) {
        self.pg_ctl("start", None);
        wait_listening(self.port, &self.log);
    }

    /// Stops the server as a crash would (no shutdown checkpoint: recovery at the next
    /// start) and starts it again.
    pub fn crash_and_restart(&self) {
        self.pg_ctl("stop", Some("immediate"));
        self.start_server();
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

fn wait_listening(port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let program = self.bindir.join("pg_ctl");
        let data = self.data.to_string_lossy().into_owned();
        let args = ["stop", "-D", data.as_str(), "-m", "immediate"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .current_dir("/")
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        // The log stays for reading after a failure; the data goes.
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
