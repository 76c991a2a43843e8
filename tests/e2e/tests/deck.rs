//! The example slide deck (www/deck.html, copied into the bundle): three
//! slides, each with a live diagram in an iframe, served under a sub-path
//! as a course site would, and opened from disk.

use std::time::{Duration, Instant};

use brownout_e2e::{
    browser, bundle, chromedriver, clock_passes, resource_urls, screenshot, serve_under, text_of,
    viewport, wait_for,
};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

const SUB_PATH: &str = "/courses/ds/brownout/";

/// The address each slide's iframe opens, in slide order.
const EMBEDS: [&str; 3] = [
    "index.html?embed=1&preset=retry-chain&error=100&retries=2&controls=retries,error_rate&theme=projector&loop=60",
    "index.html?embed=1&preset=circuit-breaker&controls=breaker&theme=projector&loop=60",
    "index.html?embed=1&preset=bulkheads&compare=1&theme=projector-dark&loop=60",
];

/// What a script run in the client's current frame returns, as the type
/// the caller binds it to.
macro_rules! script {
    ($client:expr, $code:expr) => {{
        let code: &str = $code;
        let value = $client.execute(code, vec![]).await.unwrap_or_else(|e| panic!("{code}: {e}"));
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{code}: {e}"))
    }};
}

/// Which slide is showing, by the counter under it and by the one slide
/// that has the `current` class (both counted from 1).
async fn showing(client: &Client) -> (String, usize) {
    let current: usize = script!(client, "return [...document.querySelectorAll('.slide')].findIndex(s => s.classList.contains('current')) + 1;");
    (text_of(client, "#counter").await, current)
}

/// Enters iframe `index` (the client stays in it) and waits until its page
/// has its diagram.
async fn wait_for_diagram_in_frame(client: &Client, index: u16) {
    client.enter_frame(index).await.expect("enter the iframe");
    // Three pages start at once: on a busy machine that takes a while.
    client
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css("canvas#diagram"))
        .await
        .unwrap_or_else(|e| panic!("no diagram in iframe {index}: {e}"));
}

/// The page the client's current frame shows: its path, and its `preset`
/// and `embed` parameters. (An embedded page rewrites the rest of its
/// address as it reads it, naming only what differs from the experiment.)
async fn frame_page(client: &Client) -> (String, String, String) {
    script!(
        client,
        "const p = new URLSearchParams(location.search);
         return [location.pathname, p.get('preset'), p.get('embed')];"
    )
}

/// The preset an embed address names.
fn preset_of(embed: &str) -> String {
    let query = embed.split_once('?').expect("a query").1;
    let preset = query.split('&').find_map(|kv| kv.strip_prefix("preset="));
    preset.expect("a preset").to_string()
}

/// Served under a sub-path: three iframes, each with its address, each
/// loaded (its page started, its requests answered 200) with nothing from
/// another origin; the buttons and the arrow keys move between slides.
#[tokio::test(flavor = "multi_thread")]
async fn deck_shows_three_diagrams_and_moves_between_slides() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html", host.url)).await.expect("deck opens");
    wait_for(&client, ".slide iframe").await;

    let sources: Vec<String> = script!(
        &client,
        "return [...document.querySelectorAll('iframe')].map(f => f.getAttribute('src'));"
    );
    assert_eq!(sources, EMBEDS);

    for (index, embed) in EMBEDS.iter().enumerate() {
        wait_for_diagram_in_frame(&client, index as u16).await;
        let page = frame_page(&client).await;
        let expected = (format!("{SUB_PATH}index.html"), preset_of(embed), "1".to_string());
        assert_eq!(page, expected, "slide {index}");
        let origin: String = script!(&client, "return location.origin;");
        for url in resource_urls(&client).await {
            assert!(url.starts_with(&format!("{origin}{SUB_PATH}")), "slide {index} fetched {url}");
        }
        client.enter_parent_frame().await.unwrap();
    }
    // The first slide's diagram is visible and running.
    client.enter_frame(0).await.unwrap();
    clock_passes(&client, 0.5, Duration::from_secs(30)).await;
    client.enter_parent_frame().await.unwrap();

    let requests = host.requests();
    assert!(host.failures().is_empty(), "requests not answered 200: {:#?}", host.failures());
    for embed in EMBEDS {
        let path = format!("{SUB_PATH}{embed}");
        assert!(requests.iter().any(|r| r.path == path), "no request for {path}: {requests:#?}");
    }
    for url in resource_urls(&client).await {
        assert!(url.starts_with(host.url.trim_end_matches(SUB_PATH)), "the deck fetched {url}");
    }
    let shot = screenshot(&client, "deck.png").await;
    eprintln!("screenshot: {}", shot.display());

    assert_eq!(showing(&client).await, ("1 / 3".to_string(), 1));
    let body = client.find(Locator::Css("body")).await.unwrap();
    body.send_keys(&Key::Right.to_string()).await.unwrap();
    assert_eq!(showing(&client).await, ("2 / 3".to_string(), 2));
    client.find(Locator::Css("#next")).await.unwrap().click().await.unwrap();
    assert_eq!(showing(&client).await, ("3 / 3".to_string(), 3));
    // No slide after the last: the key does nothing, the button is off.
    body.send_keys(&Key::Right.to_string()).await.unwrap();
    assert_eq!(showing(&client).await, ("3 / 3".to_string(), 3));
    let next_off: bool = script!(&client, "return document.getElementById('next').disabled;");
    assert!(next_off);
    body.send_keys(&Key::Left.to_string()).await.unwrap();
    assert_eq!(showing(&client).await, ("2 / 3".to_string(), 2));
    client.find(Locator::Css("#prev")).await.unwrap().click().await.unwrap();
    assert_eq!(showing(&client).await, ("1 / 3".to_string(), 1));
    let hash: String = script!(&client, "return location.hash;");
    assert_eq!(hash, "#1");
    client.close().await.unwrap();
}

/// The heights of the deck's iframes as their `style.height` ("" while
/// none was set), and as drawn.
const HEIGHTS: &str = "return [...document.querySelectorAll('iframe')]
                       .map(f => [f.style.height, f.getBoundingClientRect().height]);";

/// Waits until the iframes numbered `which` have each taken a height from
/// their pages and none of them has changed for a second, and returns the
/// heights of all the iframes.
async fn settled_heights_of(client: &Client, which: &[usize]) -> Vec<(String, f64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last: Vec<(String, f64)> = script!(client, HEIGHTS);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now: Vec<(String, f64)> = script!(client, HEIGHTS);
        let same = which.iter().all(|&i| now[i] == last[i]);
        if !same {
            (last, since) = (now, Instant::now());
        } else if which.iter().all(|&i| !last[i].0.is_empty())
            && since.elapsed() > Duration::from_secs(1)
        {
            return now;
        }
        assert!(Instant::now() < deadline, "the heights did not settle: {last:?}");
    }
}

/// Waits until a script returns true; panics with it after a minute.
async fn wait_for_script(client: &Client, code: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: bool = script!(client, code);
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "never true: {code}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Inside the client's current frame: whether the page fits its frame
/// without scrolling, and how tall its content is.
async fn fits_its_frame(client: &Client) -> (bool, f64) {
    script!(
        client,
        "const d = document.documentElement;
         return [d.scrollHeight <= innerHeight + 1, d.scrollHeight];"
    )
}

/// The deck sets an iframe's height from a `brownout-height` message sent
/// by the page inside it, and only that iframe's; a message of another
/// type, or from a window that is not one of its iframes, changes nothing.
///
/// The second iframe is pointed at a plain file of the bundle, which posts
/// nothing of its own, and the test posts the messages from inside it. The
/// other two keep their embedded pages, and the heights those ask for.
#[tokio::test(flavor = "multi_thread")]
async fn deck_sizes_an_iframe_from_its_pages_height_message() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html", host.url)).await.expect("deck opens");
    // Every height each iframe's page asks for, by iframe.
    client
        .execute(
            "window.asks = [[], [], []];
             addEventListener('message', (e) => {
               const i = [...document.querySelectorAll('iframe')]
                 .findIndex(f => f.contentWindow === e.source);
               if (i >= 0 && e.data && e.data.type === 'brownout-height') asks[i].push(e.data.height);
             });
             // The pages may have asked before this listener was there:
             // they start again and ask afresh.
             const frames = document.querySelectorAll('iframe');
             frames[0].contentWindow.location.reload();
             frames[2].contentWindow.location.reload();
             frames[1].src = 'embed.js';",
            vec![],
        )
        .await
        .unwrap();
    let plain = "const f = document.querySelectorAll('iframe')[1];
                 return f.contentDocument !== null && f.contentDocument.readyState === 'complete'
                   && f.contentWindow.location.pathname.endsWith('/embed.js');";
    let deadline = Instant::now() + Duration::from_secs(20);
    while !script!(&client, plain) {
        assert!(Instant::now() < deadline, "the second iframe never showed embed.js");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_script(&client, "return asks[0].length > 0 && asks[2].length > 0;").await;
    settled_heights_of(&client, &[0, 2]).await;
    // The page the second iframe held until embed.js replaced it may have
    // asked for a height between the listener's start and its unloading:
    // from here on, only what comes from embed.js's window counts.
    client.execute("asks[1] = [];", vec![]).await.unwrap();

    client.enter_frame(1).await.unwrap();
    client
        .execute(
            "parent.postMessage({ type: 'something-else', height: 300 }, '*');
             parent.postMessage({ type: 'brownout-height', height: 612.4 }, '*');",
            vec![],
        )
        .await
        .unwrap();
    client.enter_parent_frame().await.unwrap();
    // The deck's own window is no iframe of it.
    client
        .execute("postMessage({ type: 'brownout-height', height: 200 }, '*');", vec![])
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let heights: Vec<(String, f64)> = script!(&client, HEIGHTS);
        if heights[1].0 == "612px" {
            break;
        }
        assert!(Instant::now() < deadline, "no 612px: {heights:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give the ignored messages time to have had any effect they could.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let heights: Vec<(String, f64)> = script!(&client, HEIGHTS);
    assert_eq!(heights[1].0, "612px", "the second iframe keeps the height, rounded: {heights:?}");
    assert!((heights[1].1 - 612.0).abs() < 0.5, "and is drawn that tall: {heights:?}");
    let asks: Vec<Vec<f64>> = script!(&client, "return asks;");
    assert_eq!(asks[1], [612.4], "only the test's message came from embed.js: {asks:?}");
    for other in [0, 2] {
        let last = asks[other].last().unwrap_or_else(|| panic!("iframe {other} asked: {asks:?}"));
        let wanted = format!("{}px", last.clamp(120.0, 4000.0).round());
        assert_eq!(heights[other].0, wanted, "iframe {other} keeps its page's height");
    }
    client.close().await.unwrap();
}

/// The first iframe's `style.height`, the last height its page asked for
/// (as the deck's `asked` record holds it) and how long ago, in ms.
async fn first_frame_and_ask(client: &Client) -> (String, f64, f64) {
    script!(
        client,
        "const last = asked[asked.length - 1] || [NaN, 0];
         return [document.querySelector('iframe').style.height, last[0],
                 performance.now() - last[1]];"
    )
}

/// With embed mode, the first slide's iframe always takes the height its
/// page last asked for, and the page then fits it: while the run plays
/// (the page's content changes: figures, and the notice that the run
/// cannot keep up, which comes and goes on a busy machine), and when the
/// window narrows and the page asks again at its new width.
#[tokio::test(flavor = "multi_thread")]
async fn deck_iframe_keeps_its_pages_height_as_it_changes() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html", host.url)).await.expect("deck opens");
    // Every height the first slide's page asks for from here on, with when.
    client
        .execute(
            "window.asked = [];
             addEventListener('message', (e) => {
               const frame = document.querySelector('iframe');
               if (e.source === frame.contentWindow && e.data && e.data.type === 'brownout-height')
                 asked.push([e.data.height, performance.now()]);
             });
             // The page may have asked before this listener was there: it
             // starts again and asks afresh.
             document.querySelector('iframe').contentWindow.location.reload();",
            vec![],
        )
        .await
        .unwrap();
    wait_for_script(&client, "return asked.length > 0;").await;
    settled_heights_of(&client, &[0, 1, 2]).await;
    let width_wide: f64 =
        script!(&client, "return document.querySelector('iframe').getBoundingClientRect().width;");

    // Checks, about every 200 ms for `samples` rounds, that the frame has
    // the height last asked for and the page fits it, whenever the last ask
    // is more than half a second old and nothing changed during the check.
    async fn follows(client: &Client, samples: usize) -> usize {
        let mut checked = 0;
        for _ in 0..samples {
            let before = first_frame_and_ask(client).await;
            client.enter_frame(0).await.unwrap();
            let (fits, content) = fits_its_frame(client).await;
            client.enter_parent_frame().await.unwrap();
            let after = first_frame_and_ask(client).await;
            if before.1 == after.1 && before.2 > 500.0 {
                let wanted = format!("{}px", after.1.clamp(120.0, 4000.0).round());
                assert_eq!(after.0, wanted, "the frame does not have the height last asked for");
                assert!(fits, "the page scrolls inside its {} frame: content {content}", after.0);
                checked += 1;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        checked
    }

    client.enter_frame(0).await.unwrap();
    let start = brownout_e2e::sim_seconds(&client).await;
    clock_passes(&client, start + 0.5, Duration::from_secs(30)).await;
    client.enter_parent_frame().await.unwrap();
    let checked = follows(&client, 25).await;
    assert!(checked >= 5, "only {checked} quiet moments to check in 5 s");
    let asks_wide: Vec<(f64, f64)> = script!(&client, "return asked;");

    // A narrower window: narrower slides, a narrower frame, a new ask.
    // (The first slide's frame is as tall as fits under its title, so only
    // a window narrower than that frame narrows it.)
    client.set_window_size(600, 720).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let width_narrow = loop {
        let width: f64 = script!(
            &client,
            "return document.querySelector('iframe').getBoundingClientRect().width;"
        );
        let asks: Vec<(f64, f64)> = script!(&client, "return asked;");
        if width < width_wide - 50.0 && asks.len() > asks_wide.len() {
            break width;
        }
        assert!(Instant::now() < deadline, "no narrower frame or new ask: {width} px, {asks:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let checked = follows(&client, 15).await;
    assert!(checked >= 3, "only {checked} quiet moments to check after the resize");
    let (height, asked, _) = first_frame_and_ask(&client).await;
    eprintln!("first iframe: {width_wide} px wide, then {width_narrow} px wide and {height} ({asked} asked)");
    client.close().await.unwrap();
}

/// Opened from disk, the deck points its iframes at brownout.html, the
/// single file beside it, and the first slide's diagram runs.
#[tokio::test(flavor = "multi_thread")]
async fn deck_opened_from_disk_embeds_the_single_file() {
    let deck = bundle().join("deck.html");
    assert!(bundle().join("brownout.html").is_file(), "the hook wrote brownout.html");
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("file://{}", deck.display())).await.expect("deck opens");
    wait_for(&client, ".slide iframe").await;
    let sources: Vec<String> = script!(
        &client,
        "return [...document.querySelectorAll('iframe')].map(f => f.getAttribute('src'));"
    );
    let expected: Vec<String> =
        EMBEDS.iter().map(|e| e.replacen("index.html", "brownout.html", 1)).collect();
    assert_eq!(sources, expected);
    for (index, embed) in EMBEDS.iter().enumerate() {
        wait_for_diagram_in_frame(&client, index as u16).await;
        let protocol: String = script!(&client, "return location.protocol;");
        assert_eq!(protocol, "file:");
        let (path, preset, embedded) = frame_page(&client).await;
        let folder = bundle().display().to_string();
        assert_eq!(path, format!("{folder}/brownout.html"), "slide {index}");
        assert_eq!((preset, embedded), (preset_of(embed), "1".to_string()), "slide {index}");
        if index == 0 {
            clock_passes(&client, 0.5, Duration::from_secs(30)).await;
        }
        client.enter_parent_frame().await.unwrap();
    }
    client.close().await.unwrap();
}

/// On the screens a deck is shown on (a page of 1280 × 720, 1366 × 768,
/// 1024 × 768, 1920 × 1080, and the 1280 × 578 a 1280 × 720 window leaves)
/// every slide fits above the bar without scrolling, the third too, whose
/// comparison stacks two diagrams: its frame narrows until the page inside
/// asks for no more height than the slide has, also where the page's
/// height has stopped following its width.
#[tokio::test(flavor = "multi_thread")]
async fn every_slide_fits_without_scrolling() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html#3", host.url)).await.expect("deck opens");
    for index in 0..3u16 {
        wait_for_diagram_in_frame(&client, index).await;
        client.enter_parent_frame().await.unwrap();
    }
    // Whether every slide fits (not a pixel over), and the third frame:
    // its width, whether the deck narrowed it, its height and the room
    // under the third slide's title.
    let state = "const slides = [...document.querySelectorAll('.slide')];
                 const f = document.querySelectorAll('.slide iframe')[2];
                 const slide = f.closest('.slide');
                 const padding = Math.ceil(parseFloat(getComputedStyle(slide).paddingBottom));
                 return [slides.every(s => s.scrollHeight <= s.clientHeight),
                         f.getBoundingClientRect().width, f.style.width !== '',
                         f.getBoundingClientRect().height,
                         slide.clientHeight - f.offsetTop - padding];";
    let mut third = (0.0, 0.0);
    for (width, height) in
        [(1280, 578), (1280, 720), (1366, 768), (1024, 768), (1280, 800), (1920, 1080)]
    {
        viewport(&client, width, height).await;
        // Settled: every slide fits and the third frame's width has held
        // for a second and a half (the deck looks again 600 ms after a
        // narrowing; the page reports its height four times a second).
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut held_since, mut last_width) = (Instant::now(), -1.0);
        let (narrowed, frame_height, room) = loop {
            let (fits, w, narrowed, h, room): (bool, f64, bool, f64, f64) = script!(&client, state);
            if w != last_width {
                (held_since, last_width) = (Instant::now(), w);
            }
            if fits && held_since.elapsed() > Duration::from_millis(1500) {
                break (narrowed, h, room);
            }
            assert!(Instant::now() < deadline, "at {width}×{height} the deck never settles");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        third = (last_width, frame_height);
        assert!(
            third.0 > 300.0 && third.1 > 200.0,
            "at {width}×{height} the third diagram is still a size to read: {third:?}"
        );
        // A narrowed frame uses the room it was narrowed for.
        assert!(
            !narrowed || frame_height >= 0.9 * room,
            "at {width}×{height} the third frame is {frame_height} px tall in {room} px of room"
        );
    }
    assert!(third.0 > 600.0, "at 1920×1080 the third diagram is wide: {third:?}");
    screenshot(&client, "deck-slide-3.png").await;
    client.close().await.unwrap();
}
