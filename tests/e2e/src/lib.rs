//! Harness for the end-to-end tests: builds the release bundle with Trunk,
//! serves it on 127.0.0.1, and drives headless Chromium over WebDriver.
//!
//! Everything runs on this machine: the static server and chromedriver bind
//! to loopback, and Chromium is started with its background networking off.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Builds the release bundle once per test binary and returns its folder.
///
/// Trunk builds into a target folder of its own: the `cargo test` that runs
/// this may still hold the lock on the workspace's.
pub fn bundle() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let root = root();
        let dist = root.join("target/e2e/dist");
        let status = Command::new("trunk")
            .args(["build", "--release", "--dist"])
            .arg(&dist)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", root.join("target/e2e/cargo"))
            .status()
            .expect("trunk runs (scripts/setup.sh installs it)");
        assert!(status.success(), "trunk build --release failed");
        dist
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A static file server for a folder, on a free loopback port, for the life
/// of the test process.
pub fn serve(dir: &Path) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind loopback");
    let port = server.server_addr().to_ip().expect("ip address").port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request.url().split('?').next().unwrap_or("/").trim_start_matches('/');
            let path = if path.is_empty() { "index.html" } else { path };
            let file = dir.join(path);
            let inside = file.canonicalize().map(|f| f.starts_with(&dir)).unwrap_or(false);
            let response = match std::fs::read(&file) {
                Ok(body) if inside => {
                    let mime = match file.extension().and_then(|e| e.to_str()) {
                        Some("html") => "text/html; charset=utf-8",
                        Some("js") => "text/javascript",
                        Some("wasm") => "application/wasm",
                        Some("css") => "text/css",
                        Some("svg") => "image/svg+xml",
                        _ => "application/octet-stream",
                    };
                    let header = tiny_http::Header::from_bytes("Content-Type", mime).unwrap();
                    tiny_http::Response::from_data(body).with_header(header)
                }
                _ => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
            };
            let _ = request.respond(response);
        }
    });
    format!("http://127.0.0.1:{port}/")
}

/// A chromedriver process, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn chromedriver() -> Driver {
    let port = free_port();
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs (scripts/setup.sh --browser installs it)");
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

/// Opens headless Chromium at `width`×`height` through the driver.
pub async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let profile =
        std::env::temp_dir().join(format!("brownout-e2e-{}-{}", std::process::id(), free_port()));
    let chrome = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::native().capabilities(caps.clone()).connect(&driver.url).await {
            Ok(client) => return client,
            Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Sets a form control's value as a user would and fires `event` on it.
pub async fn set_control(client: &Client, id: &str, value: &str, event: &str) {
    let script = "const el = document.getElementById(arguments[0]);
                  el.value = arguments[1];
                  el.dispatchEvent(new Event(arguments[2], { bubbles: true }));";
    client
        .execute(script, vec![id.into(), value.into(), event.into()])
        .await
        .unwrap_or_else(|e| panic!("set #{id}: {e}"));
}

/// Waits for an element to appear.
pub async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
}

/// Saves a screenshot under `target/e2e/`, and returns its path.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("screenshot");
    let path = root().join("target/e2e").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, png).unwrap();
    path
}
