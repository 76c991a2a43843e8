//! Embedding the page in course slides: the view in the address, the page
//! as a frame, exports, and addresses the page cannot fully use.

use std::path::PathBuf;
use std::time::Duration;

use brownout_e2e::{
    browser_with, bundle, chromedriver, devtools, evaluate, root, screenshot, serve, set_control,
    sim_seconds, viewport, wait_for, wait_until, Driver,
};
use fantoccini::{Client, Locator};
use serde_json::Value;

/// A fresh browser at `width`×`height` on the bundle at `query`, with its
/// driver and its downloads folder.
async fn open(size: (u32, u32), query: &str, extra: &[&str]) -> (Client, Driver, PathBuf) {
    open_with(size, query, extra, false).await
}

/// [`open`], for a test that reads an export back with `fetch` from the
/// page: the page's Content-Security-Policy refuses to fetch even its own
/// blob: URLs (it never needs to), so the browser is told to set the
/// policy aside for this test. tests/steady.rs checks the policy itself.
async fn open_to_read_exports(
    size: (u32, u32),
    query: &str,
    extra: &[&str],
) -> (Client, Driver, PathBuf) {
    open_with(size, query, extra, true).await
}

async fn open_with(
    size: (u32, u32),
    query: &str,
    extra: &[&str],
    bypass_policy: bool,
) -> (Client, Driver, PathBuf) {
    let site = serve(bundle());
    let driver = chromedriver();
    let downloads = root().join("target/e2e/downloads").join(format!("{}", std::process::id()));
    let client = browser_with(&driver, size, extra, &downloads).await;
    if bypass_policy {
        devtools(&client, "Page.setBypassCSP", serde_json::json!({ "enabled": true })).await;
    }
    client.goto(&format!("{site}{query}")).await.expect("page opens");
    wait_for(&client, "canvas#diagram").await;
    (client, driver, downloads)
}

async fn value(client: &Client, id: &str) -> String {
    let script = format!("return document.getElementById('{id}').value;");
    evaluate(client, &script).await.as_str().unwrap_or_default().to_string()
}

async fn checked(client: &Client, id: &str) -> bool {
    let script = format!("return document.getElementById('{id}').checked;");
    evaluate(client, &script).await == Value::Bool(true)
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Every control set by hand, the link copied, the link opened in a fresh
/// browser: the same values come back.
#[tokio::test(flavor = "multi_thread")]
async fn a_shared_link_opens_with_the_same_control_values() {
    let (client, _driver, _) = open((1280, 1000), "?preset=retry-chain", &[]).await;
    let inputs = [
        ("error-rate", "40"),
        ("latency", "55"),
        ("load", "50"),
        ("retries", "3"),
        ("timeout", "400"),
    ];
    for (id, v) in inputs {
        set_control(&client, id, v, "input").await;
    }
    click(&client, "#breaker").await;
    wait_for(&client, "#breaker-threshold").await;
    set_control(&client, "breaker-threshold", "30", "input").await;
    set_control(&client, "breaker-window", "12", "input").await;
    click(&client, "#retry-budget").await;
    set_control(&client, "jitter", "full", "change").await;
    set_control(&client, "speed", "5", "change").await;
    set_control(&client, "seed", "7", "change").await;

    click(&client, "#copy-link").await;
    wait_for(&client, "#share-text").await;
    let link = value(&client, "share-text").await;
    for part in
        ["preset=retry-chain", "retries=3", "error=40", "breaker=1", "threshold=30", "seed=7"]
    {
        assert!(link.contains(part), "{part} in {link}");
    }
    // The address bar follows the page, a moment after the last change.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let address = evaluate(&client, "return location.href;").await;
    assert_eq!(address.as_str(), Some(link.as_str()), "the address is the link");
    client.close().await.unwrap();

    // A fresh browser: no state but the link.
    let driver = chromedriver();
    let downloads = root().join("target/e2e/downloads");
    let fresh = browser_with(&driver, (1280, 1000), &[], &downloads).await;
    fresh.goto(&link).await.unwrap();
    wait_for(&fresh, "#breaker-threshold").await;
    for (id, v) in inputs {
        assert_eq!(value(&fresh, id).await, v, "#{id}");
    }
    assert!(checked(&fresh, "breaker").await, "the breaker is on");
    assert!(checked(&fresh, "retry-budget").await, "the budget is on");
    assert_eq!(value(&fresh, "breaker-threshold").await, "30");
    assert_eq!(value(&fresh, "breaker-window").await, "12");
    assert_eq!(value(&fresh, "jitter").await, "full");
    assert_eq!(value(&fresh, "speed").await, "5");
    assert_eq!(value(&fresh, "seed").await, "7");
    assert!(fresh.find(Locator::Css("#url-notice")).await.is_err(), "nothing was left out");
    let retries =
        fresh.find(Locator::Css("#retries + output")).await.unwrap().text().await.unwrap();
    assert_eq!(retries, "3 retries = 4 tries");
    fresh.close().await.unwrap();
}

/// The frame of a slide at 640×360: the diagram and the named controls,
/// nothing else, no scrolling, and the run plays.
#[tokio::test(flavor = "multi_thread")]
async fn an_embed_at_640_by_360_shows_only_its_controls_and_fits() {
    let query = "?preset=retry-chain&embed=1&controls=retries,error_rate,play&theme=projector";
    let (client, _driver, _) = open((640, 360), query, &[]).await;
    viewport(&client, 640, 360).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for present in ["#retries", "#error-rate", "#play", "#clock"] {
        let shown = format!(
            "const e = document.querySelector('{present}'); return !!e && e.getClientRects().length > 0;"
        );
        assert_eq!(evaluate(&client, &shown).await, Value::Bool(true), "{present} is shown");
    }
    for absent in [
        "#load",
        "#latency",
        "#timeout",
        "#breaker",
        "#retry-budget",
        "#jitter",
        "#seed",
        "#speed",
        "#step",
        "#restart",
        ".masthead",
        "#experiment",
        "#lesson",
        "#charts",
        "table.figures",
        "#comparison",
        ".legend",
        "#copy-link",
        "#export-png",
        "#diagram-1",
    ] {
        assert!(client.find(Locator::Css(absent)).await.is_err(), "{absent} is not on the page");
    }
    let sizes = evaluate(
        &client,
        "const s = document.scrollingElement; const c = document.getElementById('diagram').getBoundingClientRect();
         return [s.scrollHeight, innerHeight, s.scrollWidth, innerWidth, c.top, c.bottom, c.width, c.height];",
    )
    .await;
    let n: Vec<f64> = sizes.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(n[0] <= n[1], "no vertical scroll: scrollHeight {} > innerHeight {}", n[0], n[1]);
    assert!(n[2] <= n[3], "no horizontal scroll: scrollWidth {} > innerWidth {}", n[2], n[3]);
    assert!(n[4] >= 0.0 && n[5] <= n[1], "the diagram is inside the frame: {n:?}");
    assert!(n[6] >= 600.0 && n[7] >= 180.0, "the diagram fills most of the frame: {n:?}");
    let motion = client.find(Locator::Css("#diagram")).await.unwrap().attr("data-motion").await;
    assert_eq!(motion.unwrap().as_deref(), Some("full"), "dots travel by default");

    // Autoplay: the clock moves without a click.
    let before = sim_seconds(&client).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = sim_seconds(&client).await;
    assert!(after > before, "the embedded run plays: {before} → {after}");
    screenshot(&client, "embed-640x360-projector.png").await;
    client.close().await.unwrap();
}

/// A slide's frame of 640×360 with eight controls, in either theme: each
/// control whole inside the frame (its name, its slider or menu, its value;
/// the menu as wide as its longest choice, so no choice is cut), nothing
/// scrolls, and the diagram keeps a readable share of the height.
#[tokio::test(flavor = "multi_thread")]
async fn an_embed_at_640_by_360_shows_eight_controls_whole() {
    let controls = "retries,error_rate,load,latency,timeout,backoff,budget,breaker";
    for (theme, extra) in
        [("projector", ""), ("standard", ""), ("projector", "&breaker=1&budget=1")]
    {
        let query = format!("?preset=retry-chain&embed=1&controls={controls}&theme={theme}{extra}");
        let (client, _driver, _) = open((640, 360), &query, &[]).await;
        viewport(&client, 640, 360).await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let state = evaluate(
            &client,
            "const s = document.scrollingElement;
             const parts = [...document.querySelectorAll(
               '.embed-controls input, .embed-controls select, .embed-controls label, .embed-controls output, .embed-controls button, .embed-clock')];
             const out = parts.map(e => [e.id || e.tagName.toLowerCase() + ' ' + e.textContent.trim(), e.getBoundingClientRect()])
               .filter(([_, r]) => r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth)
               .map(([what, r]) => `${what}: ${r.left},${r.top} to ${r.right},${r.bottom}`);
             const select = document.getElementById('jitter');
             const shown = select.getBoundingClientRect().width;
             select.style.width = 'max-content';
             const needed = select.getBoundingClientRect().width;
             select.style.width = '';
             const d = document.getElementById('diagram').getBoundingClientRect();
             const missing = ['retries', 'error-rate', 'load', 'latency', 'timeout', 'jitter', 'retry-budget', 'breaker']
               .filter(id => !document.querySelector('.embed-controls #' + id));
             return {scroll: [s.scrollHeight, innerHeight, s.scrollWidth, innerWidth], out, missing,
                     select: [shown, needed], diagram: d.height};",
        )
        .await;
        let what = format!("{theme}{extra}: {state}");
        let n = |v: &Value| v.as_f64().unwrap();
        let scroll: Vec<f64> = state["scroll"].as_array().unwrap().iter().map(n).collect();
        assert!(scroll[0] <= scroll[1], "no vertical scroll: {what}");
        assert!(scroll[2] <= scroll[3], "no horizontal scroll: {what}");
        assert_eq!(state["missing"], serde_json::json!([]), "the eight controls are there: {what}");
        assert_eq!(
            state["out"],
            serde_json::json!([]),
            "every control is inside the frame: {what}"
        );
        let select: Vec<f64> = state["select"].as_array().unwrap().iter().map(n).collect();
        assert!(select[0] + 0.5 >= select[1], "the backoff menu is not cut: {what}");
        assert!(n(&state["diagram"]) >= 140.0, "the diagram keeps its share: {what}");
        if extra.is_empty() {
            screenshot(&client, &format!("embed-640x360-eight-{theme}.png")).await;
        }
        client.close().await.unwrap();
    }
}

/// The PNG export decodes, in the page, to twice the diagram's CSS size;
/// the downloaded file says the same in its header.
#[tokio::test(flavor = "multi_thread")]
async fn the_png_export_is_twice_the_diagrams_size() {
    let (client, _driver, downloads) =
        open_to_read_exports((1280, 1000), "?preset=circuit-breaker", &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    click(&client, "#export-png").await;
    let ready = "return document.getElementById('last-export').dataset.kind === 'png';";
    wait_until(&client, ready, Duration::from_secs(15), "the PNG export").await;
    // The preset opens with its comparison: both diagrams are in the file,
    // one under the other, each under a strip that names its run.
    let decoded = evaluate(
        &client,
        "const e = document.getElementById('last-export');
         const panes = [...document.querySelectorAll('canvas[id^=diagram]')];
         return fetch(e.dataset.url).then(r => r.blob()).then(b => createImageBitmap(b))
           .then(i => [i.width, i.height, panes.length,
                       ...panes.flatMap(c => [c.clientWidth, c.clientHeight])]);",
    )
    .await;
    let n: Vec<u64> = decoded.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(n[2], 2, "the experiment and its comparison: {n:?}");
    let (widths, heights): (Vec<u64>, Vec<u64>) = n[3..].chunks(2).map(|p| (p[0], p[1])).unzip();
    assert!(widths[0] > 600 && heights.iter().all(|&h| h > 200), "real diagrams: {n:?}");
    const CAPTION_H: u64 = 30;
    let stacked = heights.iter().map(|h| h + CAPTION_H).sum::<u64>();
    let widest = *widths.iter().max().unwrap();
    assert_eq!((n[0], n[1]), (2 * widest, 2 * stacked), "decoded size vs twice the CSS sizes");

    // The file in the downloads folder: a PNG whose header says that size.
    let mut file = None;
    for _ in 0..50 {
        file = std::fs::read_dir(&downloads).ok().and_then(|entries| {
            entries.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "png"))
        });
        if file.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let file = file.expect("the PNG was downloaded");
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap()) as u64;
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap()) as u64;
    assert_eq!((width, height), (n[0], n[1]), "{}", file.display());
    let _ = std::fs::remove_file(&file);
    client.close().await.unwrap();
}

/// The SVG export parses as XML and draws the diagram: every service's
/// name, the breaker badge, and dots in flight.
#[tokio::test(flavor = "multi_thread")]
async fn the_svg_export_is_the_diagram_as_markup() {
    let (client, _driver, _) =
        open_to_read_exports((1280, 1000), "?preset=circuit-breaker&error=100&speed=2", &[]).await;
    let badge = "return document.getElementById('diagram').dataset.badge !== undefined;";
    wait_until(&client, badge, Duration::from_secs(20), "the breaker badge").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    click(&client, "#export-svg").await;
    let ready = "return document.getElementById('last-export').dataset.kind === 'svg';";
    wait_until(&client, ready, Duration::from_secs(10), "the SVG export").await;
    let parsed = evaluate(
        &client,
        "const e = document.getElementById('last-export');
         return fetch(e.dataset.url).then(r => r.text()).then(t => {
           const d = new DOMParser().parseFromString(t, 'image/svg+xml');
           const texts = [...d.getElementsByTagName('text')].map(x => x.textContent);
           return { errors: d.getElementsByTagName('parsererror').length,
                    width: d.documentElement.getAttribute('width'),
                    texts, circles: d.getElementsByTagName('circle').length,
                    nested: d.documentElement.querySelectorAll(':scope > svg').length,
                    canvas: document.getElementById('diagram').clientWidth };
         });",
    )
    .await;
    assert_eq!(parsed["errors"], 0, "{parsed}");
    assert_eq!(parsed["width"].as_str().unwrap(), parsed["canvas"].to_string(), "{parsed}");
    let texts: Vec<&str> =
        parsed["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let names = evaluate(
        &client,
        "return [...document.querySelectorAll('table.figures tbody th')].map(t => t.textContent);",
    )
    .await;
    for name in names.as_array().unwrap() {
        assert!(texts.contains(&name.as_str().unwrap()), "{name} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("breaker ")), "the badge: {texts:?}");
    assert!(parsed["circles"].as_u64().unwrap() > 0, "dots in flight: {parsed}");
    // The comparison is in the file too: each pane's caption, and as many
    // diagrams nested in the document as the page shows.
    let labels = evaluate(
        &client,
        "return [...document.querySelectorAll('.pane-label')].map(t => t.textContent);",
    )
    .await;
    assert_eq!(labels.as_array().unwrap().len(), 2, "{labels}");
    for label in labels.as_array().unwrap() {
        assert!(texts.contains(&label.as_str().unwrap()), "{label} in {texts:?}");
    }
    assert_eq!(parsed["nested"], 2, "{parsed}");
    client.close().await.unwrap();
}

/// Record clip: about five seconds later a WebM file (EBML magic bytes).
#[tokio::test(flavor = "multi_thread")]
async fn record_clip_makes_a_webm_video() {
    let (client, _driver, _) = open_to_read_exports((1280, 1000), "?speed=2", &[]).await;
    click(&client, "#record-clip").await;
    let button = client.find(Locator::Css("#record-clip")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Recording…");
    assert!(button.attr("disabled").await.unwrap().is_some(), "one clip at a time");
    let ready = "return document.getElementById('last-export').dataset.kind === 'webm';";
    wait_until(&client, ready, Duration::from_secs(20), "the clip").await;
    let head = evaluate(
        &client,
        "const e = document.getElementById('last-export');
         return fetch(e.dataset.url).then(r => r.arrayBuffer())
           .then(b => [b.byteLength, ...new Uint8Array(b.slice(0, 4))]);",
    )
    .await;
    let n: Vec<u64> = head.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(n[1..], [0x1a, 0x45, 0xdf, 0xa3], "a WebM (EBML) file");
    assert!(n[0] > 2_000, "a clip with frames: {} bytes", n[0]);
    let again = client.find(Locator::Css("#record-clip")).await.unwrap();
    assert!(again.attr("disabled").await.unwrap().is_none(), "ready for another");
    client.close().await.unwrap();
}

/// A bad address: a notice names each parameter left out and why, as text
/// only, and the page runs with the defaults.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_address_is_named_and_the_page_still_runs() {
    let query =
        "?retries=9&bogus=1&error=abc&theme=neon&latency=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";
    let (client, _driver, _) = open((1280, 1000), query, &[]).await;
    wait_for(&client, "#url-notice").await;
    let notice = client.find(Locator::Css("#url-notice")).await.unwrap();
    assert_eq!(notice.attr("role").await.unwrap().as_deref(), Some("status"));
    let text = notice.text().await.unwrap();
    for part in [
        "retries=9: out of range 0 to 5, using 2",
        "bogus=1: unknown parameter, ignored",
        "error=abc: not a number, using 10",
        "theme=neon: not one of standard, projector, projector-dark, using standard",
        "latency=<img src=x onerror=alert(1)>: not a number",
    ] {
        assert!(text.contains(part), "{part:?} in {text:?}");
    }
    let images = evaluate(&client, "return document.querySelectorAll('img').length;").await;
    assert_eq!(images, 0, "the address's markup stays text");
    assert_eq!(value(&client, "retries").await, "2");
    let before = sim_seconds(&client).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = sim_seconds(&client).await;
    assert!(after > before, "the clock advances: {before} → {after}");
    client.close().await.unwrap();
}

/// `t` fast-forwards to its time; `loop` starts the run again there.
#[tokio::test(flavor = "multi_thread")]
async fn the_run_starts_at_t_and_loops() {
    let (client, _driver, _) = open((1280, 1000), "?error=100&t=20&loop=23&speed=2", &[]).await;
    let reached = "return parseFloat(document.getElementById('clock').textContent.slice(4)) >= 20;";
    wait_until(&client, reached, Duration::from_secs(20), "the fast-forward to 20 s").await;
    // Then it plays on to 23 s and starts again at 20 s: the clock goes
    // back, and never past the loop.
    let (mut last, mut highest, mut went_back) = (0.0f64, 0.0f64, false);
    for _ in 0..80 {
        let now = sim_seconds(&client).await;
        went_back |= now + 1.0 < last;
        highest = highest.max(now);
        last = now;
        if went_back {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(went_back, "the run started again (last {last}, highest {highest})");
    assert!(highest <= 23.0, "the clock stops at the loop: {highest}");
    // From zero it fast-forwards to 20 s again, then plays on.
    wait_until(&client, reached, Duration::from_secs(20), "the fast-forward after the loop").await;
    client.close().await.unwrap();
}

/// A host page with `www/embed.js`: the embedded page says how tall it
/// wants to be and the script sizes its iframe to it.
#[tokio::test(flavor = "multi_thread")]
async fn a_host_page_with_embed_js_keeps_the_frames_height() {
    let (client, _driver, _) = open((1280, 1000), "", &[]).await;
    // A bare same-origin page to be the host (not the app's own page, whose
    // Content-Security-Policy allows no frames).
    let bare = client.current_url().await.unwrap().join("/not-a-page").unwrap();
    client.goto(bare.as_str()).await.unwrap();
    let host = "document.body.innerHTML = '';
        window.heights = [];
        addEventListener('message', e => {
          if (e.data && e.data.type === 'brownout-height') heights.push(e.data.height);
        });
        const f = document.createElement('iframe');
        f.id = 'frame';
        f.src = '/?embed=1&controls=load,error_rate,retries,timeout,play';
        f.style.width = '480px';
        f.style.height = '100px';
        document.body.appendChild(f);
        return true;";
    evaluate(&client, host).await;
    evaluate(&client, &format!("{}\nreturn true;", include_str!("../../../www/embed.js"))).await;
    let sized = "return heights.length > 0 &&
        document.getElementById('frame').style.height === Math.round(heights[heights.length - 1]) + 'px';";
    wait_until(&client, sized, Duration::from_secs(20), "a height message and a resize").await;
    let height = evaluate(&client, "return heights[heights.length - 1];").await.as_f64().unwrap();
    // At 480 px the controls wrap and the diagram scales down: more than
    // the 100 px the host started with, less than a screenful.
    assert!((150.0..800.0).contains(&height), "asked for {height} px");
    client.close().await.unwrap();
}

/// With reduced motion the diagram does not move dots along the edges: it
/// counts the messages on each lane instead, and says so on the canvas.
#[tokio::test(flavor = "multi_thread")]
async fn reduced_motion_draws_counts_instead_of_moving_dots() {
    let (client, _driver, _) =
        open_to_read_exports((1280, 1000), "?error=100", &["--force-prefers-reduced-motion"]).await;
    let reduced = "return document.getElementById('diagram').dataset.motion === 'reduced';";
    wait_until(&client, reduced, Duration::from_secs(10), "the calm rendering").await;
    // The exported picture is the calm one too: no dot on any edge, and
    // the counts of the messages on the lanes as numbers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    click(&client, "#export-svg").await;
    let ready = "return document.getElementById('last-export').dataset.kind === 'svg';";
    wait_until(&client, ready, Duration::from_secs(10), "the SVG export").await;
    let parsed = evaluate(
        &client,
        "const e = document.getElementById('last-export');
         return fetch(e.dataset.url).then(r => r.text()).then(t => {
           const d = new DOMParser().parseFromString(t, 'image/svg+xml');
           const counts = [...d.getElementsByTagName('text')].map(x => x.textContent)
             .filter(x => /^[0-9]+$/.test(x)).map(Number);
           return { circles: d.getElementsByTagName('circle').length, counts };
         });",
    )
    .await;
    assert_eq!(parsed["circles"], 0, "nothing drawn as a moving dot: {parsed}");
    let counts = parsed["counts"].as_array().unwrap();
    assert!(counts.iter().any(|n| n.as_u64().unwrap() > 0), "messages counted: {parsed}");
    client.close().await.unwrap();
}

/// An embedded comparison: two diagrams stacked in the frame, each filling
/// its own pane exactly, neither over the other.
#[tokio::test(flavor = "multi_thread")]
async fn an_embedded_comparison_stacks_two_diagrams_in_the_frame() {
    let query = "?preset=circuit-breaker&embed=1&compare=1&controls=play&theme=projector-dark";
    let (client, _driver, _) = open((640, 360), query, &[]).await;
    viewport(&client, 640, 360).await;
    wait_for(&client, "canvas#diagram-1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let boxes = evaluate(
        &client,
        "return [...document.querySelectorAll('.pane')].map(p => {
           const a = p.getBoundingClientRect(), b = p.querySelector('canvas').getBoundingClientRect();
           return [a.top, a.bottom, b.top, b.bottom, b.width];
         });",
    )
    .await;
    let panes: Vec<Vec<f64>> = serde_json::from_value(boxes).unwrap();
    assert_eq!(panes.len(), 2, "{panes:?}");
    for p in &panes {
        assert!((p[0] - p[2]).abs() <= 1.0 && (p[1] - p[3]).abs() <= 1.0, "fills its pane: {p:?}");
        assert!(p[3] - p[2] >= 80.0 && p[4] >= 600.0, "a usable diagram: {p:?}");
    }
    assert!(panes[0][3] <= panes[1][2] + 1.0, "stacked, not overlapping: {panes:?}");
    let fits = "return document.scrollingElement.scrollHeight <= innerHeight;";
    assert_eq!(evaluate(&client, fits).await, Value::Bool(true), "no scrolling");
    screenshot(&client, "embed-640x360-compare-dark.png").await;
    client.close().await.unwrap();
}
