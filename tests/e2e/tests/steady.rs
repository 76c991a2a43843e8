//! The page under strain and attack: its Content-Security-Policy, a tab
//! frozen and resumed, a panic, and markup smuggled in through the address.

use std::path::Path;
use std::time::{Duration, Instant};

use brownout_e2e::*;
use fantoccini::{Client, Locator};

/// Kept by every document before its own scripts run: each breach of the
/// page's policy, and each console error.
const RECORDER: &str = "
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
        window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
    });
    window.__errors = [];
    const consoleError = console.error.bind(console);
    console.error = (...args) => {
        window.__errors.push(args.map(String).join(' '));
        consoleError(...args);
    };
";

/// Opens `url` with the [`RECORDER`] in place, and waits until its run is
/// a simulated second in.
async fn open_recorded(client: &Client, url: &str, within: Duration) {
    before_every_document(client, RECORDER).await;
    client.goto(url).await.unwrap();
    wait_for(client, "canvas#diagram").await;
    clock_passes(client, 1.0, within).await;
}

async fn violations(client: &Client) -> Vec<String> {
    serde_json::from_value(evaluate(client, "return window.__violations;").await).unwrap()
}

/// The policy in the page's <meta>, as its directives: name and sources.
async fn policy(client: &Client) -> Vec<(String, Vec<String>)> {
    let script = "const m = document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]');
                  return m ? m.content : '';";
    let text = evaluate(client, script).await.as_str().unwrap().to_string();
    assert!(!text.is_empty(), "the page has a Content-Security-Policy");
    text.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

/// The sources of one directive; panics if the policy lacks it.
fn sources<'a>(policy: &'a [(String, Vec<String>)], directive: &str) -> &'a [String] {
    let found = policy.iter().find(|(name, _)| name == directive);
    &found.unwrap_or_else(|| panic!("no {directive} in {policy:?}")).1
}

/// A strict policy: everything refused unless named; scripts only from
/// the page's origin (`'self'`, where `may_self`) or named by hash, with
/// WebAssembly but no eval; no inline style; nothing from another origin.
fn assert_strict(policy: &[(String, Vec<String>)], may_self: bool) {
    assert_eq!(sources(policy, "default-src"), ["'none'"], "{policy:?}");
    for (directive, allowed) in policy {
        for source in allowed {
            let fine = match source.as_str() {
                "'self'" => may_self,
                "'none'" | "'wasm-unsafe-eval'" => true,
                "data:" | "blob:" => matches!(directive.as_str(), "img-src" | "media-src"),
                s => s.starts_with("'sha256-") && directive.ends_with("-src"),
            };
            assert!(fine, "{directive} allows {source}: {policy:?}");
        }
    }
    let scripts = sources(policy, "script-src");
    assert!(scripts.iter().any(|s| s == "'wasm-unsafe-eval'"), "WebAssembly: {scripts:?}");
    assert!(scripts.iter().any(|s| s.starts_with("'sha256-")), "the loader's hash: {scripts:?}");
    for directive in ["object-src", "base-uri", "form-action"] {
        assert_eq!(sources(policy, directive), ["'none'"], "{directive}");
    }
}

/// Served, the page runs under its policy without breaching it, through
/// the gestures that draw and re-render most (experiments, a comparison,
/// themes, a detail panel, exports), and the policy is enforced: markup
/// put into the page runs no inline script.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_runs_under_a_strict_content_security_policy() {
    let site = serve(bundle());
    let driver = chromedriver();
    let downloads = std::env::temp_dir().join(format!("brownout-csp-{}", std::process::id()));
    let client = browser_with(&driver, (1280, 1000), &[], &downloads).await;
    open_recorded(&client, &format!("{site}?speed=5"), Duration::from_secs(30)).await;
    assert_strict(&policy(&client).await, true);

    for preset in ["bulkheads", "circuit-breaker", "metastable"] {
        set_control(&client, "experiment", preset, "change").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    client.find(Locator::Css("#compare")).await.unwrap().click().await.unwrap();
    for theme in ["projector", "projector-dark", "standard"] {
        set_control(&client, "theme", theme, "change").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A click on the diagram's first service opens its detail panel.
    let canvas = client.find(Locator::Css("canvas#diagram")).await.unwrap();
    canvas.click().await.unwrap();
    for export in ["#export-svg", "#export-png"] {
        client.find(Locator::Css(export)).await.unwrap().click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    clock_passes(&client, sim_seconds(&client).await + 1.0, Duration::from_secs(30)).await;
    assert_eq!(violations(&client).await, Vec::<String>::new(), "the page breached its policy");

    // Enforced, not only declared: an inline handler and an inline script
    // added as markup do not run, and the browser reports both.
    let script = "document.body.insertAdjacentHTML('beforeend',
                      '<img id=\"probe\" src=\"data:,\" onerror=\"window.__ran = 1\">');
                  const s = document.createElement('script');
                  s.textContent = 'window.__ran = 2';
                  document.body.append(s);";
    evaluate(&client, script).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(evaluate(&client, "return window.__ran === undefined;").await, true);
    let breached = violations(&client).await;
    assert!(breached.iter().any(|v| v.starts_with("script-src-attr")), "{breached:?}");
    assert!(breached.iter().any(|v| v.starts_with("script-src-elem")), "{breached:?}");

    // Every resource came from the page's own origin.
    for url in resource_urls(&client).await {
        assert!(url.starts_with(&site), "{url} is not from {site}");
    }
    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&downloads);
}

/// brownout.html, opened from disk, has a policy of its own (its inline
/// script and stylesheet named by hash) and runs without breaching it.
#[tokio::test(flavor = "multi_thread")]
async fn the_single_file_runs_under_its_own_policy() {
    let file = bundle().join("brownout.html");
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    open_recorded(&client, &format!("file://{}", file.display()), Duration::from_secs(60)).await;
    // A file from disk trusts no origin: its code is named by hash.
    assert_strict(&policy(&client).await, false);
    assert_eq!(violations(&client).await, Vec::<String>::new());
    client.close().await.unwrap();
}

/// The simulated clock and real time, read together.
async fn clock(client: &Client) -> (f64, Instant) {
    (sim_seconds(client).await, Instant::now())
}

/// A tab frozen for seconds (as a hidden tab is) resumes where it was: no
/// burst of simulated time when its frames come back, and the run is the
/// one an uninterrupted tab plays, so no breaker trips that would not have.
#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_tab_resumes_without_a_burst_or_a_different_run() {
    const SPEED: f64 = 5.0;
    const FROZEN: Duration = Duration::from_secs(4);
    let plain = Lab::open("circuit-breaker", 60).await;
    let frozen = Lab::open("circuit-breaker", 60).await;
    set_control(&frozen.client, "speed", "5", "change").await;
    clock_passes(&frozen.client, 10.0, Duration::from_secs(60)).await;

    let (before, start) = clock(&frozen.client).await;
    // Frozen, the page is hidden and gets no frames, as in a background
    // tab; thawed, it stays hidden until another tab of the window has
    // been in front and closed.
    let lifecycle = |state: &str| serde_json::json!({ "state": state });
    devtools(&frozen.client, "Page.setWebLifecycleState", lifecycle("frozen")).await;
    tokio::time::sleep(FROZEN).await;
    devtools(&frozen.client, "Page.setWebLifecycleState", lifecycle("active")).await;
    let page = frozen.client.window().await.unwrap();
    let other = frozen.client.new_window(true).await.unwrap();
    frozen.client.switch_to_window(other.handle).await.unwrap();
    frozen.client.close_window().await.unwrap();
    frozen.client.switch_to_window(page).await.unwrap();
    let shown = evaluate(&frozen.client, "return document.visibilityState;").await;
    assert_eq!(shown, "visible");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (after, end) = clock(&frozen.client).await;
    let awake = (end - start).saturating_sub(FROZEN).as_secs_f64();
    // The figures are redrawn every 250 ms, so the clock read may lag by a
    // quarter second of real time either side; a burst would add the
    // frozen four seconds, 20 simulated ones.
    let allowed = SPEED * (awake + 0.1 + 0.5);
    assert!(
        after - before <= allowed,
        "t went from {before} to {after} s over {awake:.2} s awake: a burst (allowed {allowed:.1})"
    );
    assert!(after > before, "the run goes on after the freeze");

    frozen.run_until("5", async |_, _| {}).await;
    plain.run_until("5", async |_, _| {}).await;
    for what in ["success", "degraded", "p99"] {
        let (a, b) = (frozen.compared(what, 0).await, plain.compared(what, 0).await);
        assert_eq!(a, b, "{what}: {a} after a freeze, {b} without");
    }
    assert_eq!(frozen.answer_measured().await, plain.answer_measured().await);
    let transitions = |lab: &Lab| {
        let client = lab.client.clone();
        async move { text_of(&client, "#events").await }
    };
    assert_eq!(transitions(&frozen).await, transitions(&plain).await, "the same breaker events");
}

/// A panic shows its message in a banner, goes to the console, and stops
/// the animation instead of leaving a canvas that silently stands still.
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_shows_its_message_and_stops_the_animation() {
    let site = serve(bundle());
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    open_recorded(&client, &format!("{site}?speed=5"), Duration::from_secs(30)).await;

    let call = "try { window.wasmBindings.panic_for_test(arguments[0]); return 'no panic'; }
                catch (e) { return String(e); }";
    let thrown = client.execute(call, vec!["the test's deliberate panic".into()]).await.unwrap();
    assert!(thrown.as_str().unwrap().contains("unreachable"), "{thrown}");
    let banner = client.find(Locator::Css("#fatal")).await.expect("a banner");
    assert!(banner.is_displayed().await.unwrap(), "the banner is visible");
    let text = banner.text().await.unwrap();
    assert!(text.contains("the test's deliberate panic"), "{text}");
    let errors: Vec<String> =
        serde_json::from_value(evaluate(&client, "return window.__errors;").await).unwrap();
    assert!(errors.iter().any(|e| e.contains("the test's deliberate panic")), "{errors:?}");
    let path = screenshot(&client, "panic.png").await;
    eprintln!("screenshot: {}", path.display());

    // The animation has stopped: the canvas is not redrawn.
    let frame = "return document.querySelector('canvas#diagram').toDataURL();";
    let first = evaluate(&client, frame).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(evaluate(&client, frame).await, first, "the canvas still changes");

    // The rest of the page is inert: its controls would only seem to work.
    let inert = "return document.getElementById('play').closest('[inert]') !== null
                 && document.getElementById('fatal').closest('[inert]') === null;";
    assert_eq!(evaluate(&client, inert).await, true, "the controls are still live");

    // A second panic keeps the first message, the one worth reading.
    client.execute(call, vec!["a later panic".into()]).await.unwrap();
    let banners = evaluate(&client, "return document.querySelectorAll('#fatal').length;").await;
    assert_eq!(banners, 1);
    assert!(text_of(&client, "#fatal").await.contains("deliberate"));
    client.close().await.unwrap();
}

/// Markup in any part of the address (values, a parameter's name, the
/// preset, the list of controls) is shown as text or refused, never made
/// into elements; no script of it runs.
#[tokio::test(flavor = "multi_thread")]
async fn markup_in_the_address_never_becomes_html() {
    let site = serve(bundle());
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    let markup = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>";
    let encoded: String =
        markup
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
    let query = format!(
        "?preset={encoded}&error={encoded}&controls={encoded}&theme={encoded}&{encoded}=1&t={encoded}"
    );
    client.goto(&format!("{site}{query}")).await.unwrap();
    wait_for(&client, "#url-notice").await;
    clock_passes(&client, 0.5, Duration::from_secs(30)).await;
    let notice = text_of(&client, "#url-notice").await;
    assert!(notice.contains(markup), "the markup is named as text: {notice}");
    let made = "return document.querySelectorAll('img, body script, iframe, object').length;";
    assert_eq!(evaluate(&client, made).await, 0, "markup became elements");
    assert_eq!(evaluate(&client, "return window.__xss === undefined;").await, true);
    client.close().await.unwrap();
}

/// The app never builds markup from a string: every text it shows (from
/// the address, a scenario, a message) goes in as a text node. A check on
/// the source, which no test of the running page can cover in full.
#[test]
fn the_app_never_writes_markup_from_strings() {
    let forbidden =
        ["set_inner_html", "set_outer_html", "insert_adjacent_html", "from_html_unchecked"];
    let mut found = Vec::new();
    let source = root().join("crates/web/src");
    visit(&source, &mut |path, text| {
        for word in forbidden {
            if text.contains(word) {
                found.push(format!("{} uses {word}", path.display()));
            }
        }
    });
    assert!(found.is_empty(), "{found:?}");
}

fn visit(dir: &Path, each: &mut dyn FnMut(&Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, each);
        } else if path.extension().is_some_and(|e| e == "rs") {
            each(&path, &std::fs::read_to_string(&path).unwrap());
        }
    }
}
