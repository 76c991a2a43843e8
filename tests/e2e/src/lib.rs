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
/// this may still hold the lock on the workspace's. When
/// `BROWNOUT_E2E_DIST` names a folder with a built bundle (scripts/test.sh
/// builds it once for every test binary), that folder is used as it is.
pub fn bundle() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        if let Some(built) = std::env::var_os("BROWNOUT_E2E_DIST").map(PathBuf::from) {
            assert!(
                built.join("index.html").is_file(),
                "BROWNOUT_E2E_DIST={} holds no built bundle",
                built.display()
            );
            return built.canonicalize().expect("the bundle's folder");
        }
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
/// of the test process: [`serve_under`] at the root, its log unread.
pub fn serve(dir: &Path) -> String {
    serve_under(dir, "/").url
}

/// A chromedriver process, killed when dropped, with the browsers it
/// started.
pub struct Driver {
    child: Child,
    pub url: String,
    /// The profile folders of the browsers opened through this driver.
    profiles: std::sync::Mutex<Vec<PathBuf>>,
}

impl Drop for Driver {
    /// Ends chromedriver and every browser it started. A test that fails
    /// never reaches its `close()`, and killing chromedriver leaves its
    /// Chromium running: each browser is found by its own profile folder.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for profile in self.profiles.lock().map(|p| p.clone()).unwrap_or_default() {
            let _ = Command::new("pkill")
                .args(["-f", "--"])
                .arg(format!("--user-data-dir={}", profile.display()))
                .status();
            let _ = std::fs::remove_dir_all(&profile);
        }
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
    Driver { child, url: format!("http://127.0.0.1:{port}"), profiles: Default::default() }
}

/// Opens headless Chromium at `width`×`height` through the driver.
pub async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    open_chromium(driver, (width, height), &[], None).await
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

/// Resizes the window so that the page itself (the viewport) is
/// `width`×`height`, as an iframe or a projector of that size would show
/// it: the window's own frame takes room of its own (a window opened at
/// 1280×720 shows a page of about 1280×578).
pub async fn viewport(client: &Client, width: u32, height: u32) {
    let frame =
        evaluate(client, "return [outerWidth - innerWidth, outerHeight - innerHeight];").await;
    let (dw, dh) = (frame[0].as_u64().unwrap() as u32, frame[1].as_u64().unwrap() as u32);
    client.set_window_size(width + dw, height + dh).await.expect("resize the window");
    let inner = evaluate(client, "return [innerWidth, innerHeight];").await;
    assert_eq!(inner, serde_json::json!([width, height]), "the viewport");
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

/// The simulated time the page shows (`t = 12.3 s`), in seconds.
pub async fn sim_seconds(client: &Client) -> f64 {
    let clock = client.find(Locator::Css("#clock")).await.expect("the clock").text().await.unwrap();
    clock.trim_start_matches("t = ").trim_end_matches(" s").parse().unwrap_or(0.0)
}

/// An element's `data-value` as a number; `None` when it is missing or
/// empty (the page has no figure yet).
pub async fn data_value(client: &Client, css: &str) -> Option<f64> {
    let element = client.find(Locator::Css(css)).await.ok()?;
    element.attr("data-value").await.ok()??.parse().ok()
}

/// An element's text, or an empty string when it is not on the page.
pub async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// A page of the lab opened on one experiment, with its driver.
pub struct Lab {
    pub client: Client,
    /// The simulated second the page pauses itself at (its `until`).
    until_s: u32,
    _driver: Driver,
}

impl Lab {
    /// Opens the release bundle at `?preset=id&until=S` in a 1280×1000
    /// window and waits for the diagram and the lesson. The page pauses
    /// itself at exactly S simulated seconds, so that the figures read
    /// afterwards are those of that instant, the same on every run.
    pub async fn open(id: &str, until_s: u32) -> Lab {
        let site = serve(bundle());
        let driver = chromedriver();
        let client = browser(&driver, 1280, 1000).await;
        client.goto(&format!("{site}?preset={id}&until={until_s}")).await.expect("page opens");
        wait_for(&client, "canvas#diagram").await;
        wait_for(&client, "#lesson-title").await;
        Lab { client, until_s, _driver: driver }
    }

    /// Plays the run at `speed` times real time until it pauses itself at
    /// the `until` the lab was opened with, calling `watch` with the clock
    /// about every 100 ms of real time. Panics if the run does not get there
    /// within two real minutes.
    pub async fn run_until<F>(&self, speed: &str, mut watch: F)
    where
        F: AsyncFnMut(&Client, f64),
    {
        let seconds = f64::from(self.until_s);
        set_control(&self.client, "speed", speed, "change").await;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = sim_seconds(&self.client).await;
            watch(&self.client, now).await;
            if now >= seconds {
                break;
            }
            assert!(Instant::now() < deadline, "the run reached only t = {now} s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let play = self.client.find(Locator::Css("#play")).await.unwrap().text().await.unwrap();
        assert_eq!(play, "Play", "the run paused itself at t = {seconds} s");
        // Let the paused page render its last figures.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = sim_seconds(&self.client).await;
        assert!((now - seconds).abs() < 0.05, "paused at t = {now} s, not {seconds} s");
    }

    /// A figure of the comparison table: `what` is success, degraded, p99,
    /// amplification or saturation; pane 0 is the experiment, 1 its variant.
    pub async fn compared(&self, what: &str, pane: usize) -> f64 {
        let css = format!("#cmp-{what}-{pane}");
        data_value(&self.client, &css).await.unwrap_or_else(|| panic!("no figure in {css}"))
    }

    /// The share of requests answered at all in a pane, in full or
    /// degraded, in per cent.
    pub async fn answered(&self, pane: usize) -> f64 {
        self.compared("success", pane).await + self.compared("degraded", pane).await
    }

    /// The choice the run itself marks as its answer to the lesson's
    /// question, as the figure on the button.
    pub async fn answered_choice(&self) -> f64 {
        let button = self
            .client
            .find(Locator::Css("#question .choice.right"))
            .await
            .unwrap_or_else(|e| panic!("the run marked no choice: {e}"));
        button.attr("data-value").await.unwrap().unwrap().parse().unwrap()
    }

    /// The figure the run measured for the question.
    pub async fn answer_measured(&self) -> f64 {
        let answer = self.client.find(Locator::Css("#answer")).await.expect("the answer");
        let value = answer.attr("data-measured").await.unwrap().unwrap_or_default();
        value.parse().unwrap_or_else(|_| panic!("no measured answer: {value:?}"))
    }

    /// Saves a screenshot as `target/e2e/preset-{id}.png`.
    pub async fn screenshot(&self, id: &str) -> PathBuf {
        let path = screenshot(&self.client, &format!("preset-{id}.png")).await;
        eprintln!("screenshot: {}", path.display());
        path
    }
}

/// Opens headless Chromium like [`browser`], with `extra` command-line
/// switches (such as `--force-prefers-reduced-motion`), saving downloads
/// into `downloads` without asking.
pub async fn browser_with(
    driver: &Driver,
    size: (u32, u32),
    extra: &[&str],
    downloads: &Path,
) -> Client {
    std::fs::create_dir_all(downloads).expect("the downloads folder");
    open_chromium(driver, size, extra, Some(downloads)).await
}

/// A WebDriver session in a fresh headless Chromium with its background
/// networking off, its profile folder registered with the driver (which
/// ends the browser when it is dropped), and downloads saved into
/// `downloads` when one is given.
async fn open_chromium(
    driver: &Driver,
    (width, height): (u32, u32),
    extra: &[&str],
    downloads: Option<&Path>,
) -> Client {
    let profile =
        std::env::temp_dir().join(format!("brownout-e2e-{}-{}", std::process::id(), free_port()));
    if let Ok(mut profiles) = driver.profiles.lock() {
        profiles.push(profile.clone());
    }
    let chrome = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.push(format!("--window-size={width},{height}"));
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().map(|a| a.to_string()));
    let mut options = serde_json::json!({ "binary": chrome, "args": args });
    if let Some(downloads) = downloads {
        options["prefs"] = serde_json::json!({
            "download.default_directory": downloads.display().to_string(),
            "download.prompt_for_download": false,
        });
    }
    let caps = serde_json::json!({ "goog:chromeOptions": options });
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

/// Runs a script in the page and returns what it returns (a promise is
/// awaited), panicking with the script on error.
pub async fn evaluate(client: &Client, script: &str) -> serde_json::Value {
    client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Waits until a script returns `true`, panicking after `within` with
/// `what`.
pub async fn wait_until(client: &Client, script: &str, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while evaluate(client, script).await != serde_json::Value::Bool(true) {
        assert!(Instant::now() < deadline, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One request that a [`Host`] answered: the path as the browser asked for
/// it (with its query, if any) and the status it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub path: String,
    pub status: u16,
}

/// A static host serving a folder under a sub-path, with a log of every
/// request it answered.
pub struct Host {
    /// The folder's address, ending in `/`: `http://127.0.0.1:PORT/prefix/`.
    pub url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<Served>>>,
}

impl Host {
    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    /// The requests answered with anything but 200 OK.
    pub fn failures(&self) -> Vec<Served> {
        self.requests().into_iter().filter(|r| r.status != 200).collect()
    }
}

/// The media type a static host gives a file, by its extension.
fn media_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Serves `dir` under the sub-path `prefix` (such as `/courses/ds/brownout/`)
/// on a free loopback port, for the life of the test process, as a static
/// host would: `prefix` answers with its `index.html`, `prefix` without its
/// last slash is redirected to it (301), and anything outside `prefix` is
/// 404 Not Found, so a bundle that asked for `/file` instead of `./file`
/// would show up in [`Host::failures`].
///
/// Why hyper, on a runtime of its own: every connection is a task, so
/// however many keep-alive connections the browser holds open, a new one
/// is answered at once. (tiny_http, used before, hands each connection to a
/// thread of a pool that can miss a wake-up; with Chromium's idle
/// keep-alive connections holding every thread, a new connection's request
/// then waited for ever, and a page whose three iframes each load the
/// bundle hung about one time in ten.)
pub fn serve_under(dir: &Path, prefix: &str) -> Host {
    let prefix = format!("/{}/", prefix.trim_matches('/')).replace("//", "/");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("a non-blocking listener");
    let port = listener.local_addr().expect("its address").port();
    let files = std::sync::Arc::new(Files {
        dir: dir.canonicalize().expect("the folder to serve"),
        prefix: prefix.clone(),
        log: Default::default(),
    });
    let host = Host { url: format!("http://127.0.0.1:{port}{prefix}"), log: files.log.clone() };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the host");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listen");
            loop {
                // A failed accept (a connection reset before it was taken,
                // too many open files for a moment) loses that connection
                // only: the host goes on listening.
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        eprintln!("test host: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let files = files.clone();
                let answer = hyper::service::service_fn(move |request| {
                    let files = files.clone();
                    async move { Ok::<_, std::convert::Infallible>(files.answer(&request)) }
                });
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    // A connection the browser drops is no failure of ours.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, answer)
                        .await;
                });
            }
        });
    });
    host
}

/// What a [`Host`] serves, and its log.
struct Files {
    dir: PathBuf,
    prefix: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<Served>>>,
}

type Body = http_body_util::Full<bytes::Bytes>;

impl Files {
    /// The response to one request, logged before it is sent, so that
    /// whoever saw the response finds the request in the log.
    fn answer<B>(&self, request: &hyper::Request<B>) -> hyper::Response<Body> {
        let asked = request.uri().to_string();
        let path = request.uri().path();
        let reply = |status: u16, headers: &[(&str, &str)], body: Vec<u8>| {
            let mut response = hyper::Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(*name, *value);
            }
            response.body(Body::new(body.into())).expect("a well-formed response")
        };
        let response = if path == self.prefix.trim_end_matches('/') {
            reply(301, &[("Location", self.prefix.as_str())], Vec::new())
        } else {
            let file = path.strip_prefix(self.prefix.as_str()).map(|rest| {
                let rest = if rest.is_empty() || rest.ends_with('/') {
                    format!("{rest}index.html")
                } else {
                    rest.to_string()
                };
                self.dir.join(rest)
            });
            // Only files inside the folder: no `..` out of it.
            let inside = file
                .as_ref()
                .and_then(|f| f.canonicalize().ok())
                .filter(|f| f.starts_with(&self.dir) && f.is_file());
            match inside.and_then(|f| std::fs::read(&f).ok().map(|body| (f, body))) {
                Some((file, body)) => reply(200, &[("Content-Type", media_type(&file))], body),
                None => reply(404, &[], b"not found".to_vec()),
            }
        };
        let status = response.status().as_u16();
        self.log.lock().unwrap().push(Served { path: asked, status });
        response
    }
}

/// The resources a page (or the frame the client is in) fetched, as
/// absolute URLs, from `performance.getEntriesByType('resource')`.
pub async fn resource_urls(client: &Client) -> Vec<String> {
    let names = client
        .execute("return performance.getEntriesByType('resource').map(e => e.name);", vec![])
        .await
        .expect("resource timing entries");
    serde_json::from_value(names).expect("a list of URLs")
}

/// Waits until the page's simulated clock reads more than `seconds`, and
/// returns what it reads then; panics after `within`.
pub async fn clock_passes(client: &Client, seconds: f64, within: Duration) -> f64 {
    let deadline = Instant::now() + within;
    loop {
        let now = sim_seconds(client).await;
        if now > seconds {
            return now;
        }
        assert!(Instant::now() < deadline, "the clock stayed at t = {now} s, not past {seconds} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A Chrome DevTools Protocol command for the page the session is on,
/// sent through chromedriver's `goog/cdp/execute`. WebDriver has no word
/// for freezing a page or running a script before the page's own.
#[derive(Debug)]
struct DevTools {
    method: String,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Sends a DevTools command (`Page.setWebLifecycleState`, say) to the
/// page and returns its result.
pub async fn devtools(
    client: &Client,
    method: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let command = DevTools { method: method.into(), params };
    client.issue_cmd(command).await.unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// Runs `script` in every document the page opens from now on, before
/// the document's own scripts; DevTools runs it whatever the page's
/// Content-Security-Policy says.
pub async fn before_every_document(client: &Client, script: &str) {
    devtools(
        client,
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": script }),
    )
    .await;
}
