//! A real headless Chromium, driven over WebDriver (Debian's chromedriver), for the pages:
//! screenshots under `target/screenshots/`, and axe-core run in the page for WCAG 2.1 A/AA.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use test_support::{eventually, free_port, workspace_root};

const AXE: &str = include_str!("../../vendor/axe-core-4.14.1/axe.min.js");

pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// A fresh headless Chromium; `javascript: false` runs it with scripts off.
    pub async fn start(javascript: bool) -> Self {
        let port = free_port();
        let driver = Command::new(
            std::env::var("KLUCZNIK_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: chromedriver's Chromium (and its helpers) end with it.
        .process_group(0)
        .spawn()
        .expect("chromedriver runs (make deps installs chromium-driver)");
        eventually(
            Duration::from_secs(10),
            "chromedriver to listen",
            || async {
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
        let mut prefs = json!({ "intl.accept_languages": "pl-PL,pl" });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("KLUCZNIK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--lang=pl-PL"],
                "prefs": prefs
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self { client, driver }
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("a field #{id}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks a form's button and waits until the answer has replaced the page (the old
    /// document's elements go stale), so nothing is read from the page that was left.
    pub async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("a button {css}: {e}"))
            .click()
            .await
            .unwrap();
        eventually(
            Duration::from_secs(15),
            "the answer to the form",
            || async { old.tag_name().await.is_err().then_some(()) },
        )
        .await;
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .expect("the new page");
    }

    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// `name=value` of the console's session cookie (HttpOnly: only WebDriver sees it).
    pub async fn session_cookie(&self) -> String {
        let cookie = self
            .client
            .get_named_cookie("klucznik")
            .await
            .expect("the session cookie");
        format!("klucznik={}", cookie.value())
    }

    /// The value of the form token on the page.
    pub async fn csrf(&self) -> String {
        self.client
            .find(Locator::Css("input[name=csrf]"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .expect("a form token")
    }

    /// Chooses the option with `value` of the select `id`.
    pub async fn select(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!("#{id} option[value='{value}']")))
            .await
            .unwrap_or_else(|e| panic!("an option {value} of #{id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks the element `css` (a radio button, a checkbox).
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves the whole page, not only what fits the window, as
    /// `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = workspace_root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{name}.png"));
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .ok()
            .and_then(|h| h.as_u64())
            .unwrap_or(900)
            .clamp(900, 4000) as u32;
        self.client.set_window_size(1280, height).await.unwrap();
        std::fs::write(&file, self.client.screenshot().await.unwrap()).unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
        file
    }

    /// axe-core's WCAG 2.1 A and AA violations on the page, as `rule: targets`.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let script = format!(
            "{AXE}\nconst done = arguments[arguments.length - 1];\n\
             axe.run(document, {{ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }})\n\
               .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\n\
               .catch(e => done(['axe failed: ' + e]));"
        );
        let result = self.client.execute_async(&script, vec![]).await.unwrap();
        serde_json::from_value(result).unwrap()
    }

    /// Every input, select and textarea has a visible `<label for>`.
    pub async fn unlabelled_fields(&self) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
            .filter(f => { const l = f.id && document.querySelector('label[for=\"' + f.id + '\"]'); \
                           return !l || l.offsetParent === null || !l.textContent.trim(); })\
            .map(f => f.name || f.outerHTML);";
        let result = self.client.execute(script, vec![]).await.unwrap();
        serde_json::from_value(result).unwrap()
    }
}

impl Drop for Browser {
    /// Kills the whole group: killing chromedriver alone would leave its Chromium running,
    /// and a suite's worth of them fills the machine's memory.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
