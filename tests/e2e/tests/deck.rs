//! The example slide deck (www/deck.html, copied into the bundle): three
//! slides, each with a live diagram in an iframe, served under a sub-path
//! as a course site would, and opened from disk.

use std::time::{Duration, Instant};

use brownout_e2e::{
    browser, bundle, chromedriver, clock_passes, resource_urls, screenshot, serve_under, text_of,
    wait_for,
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

/// Waits until the page that the client's current frame shows has its
/// diagram, as in `wait_for`, but for a document inside an iframe.
async fn wait_for_diagram_in_frame(client: &Client, index: u16) {
    client.enter_frame(index).await.expect("enter the iframe");
    wait_for(client, "canvas#diagram").await;
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

/// Waits until every iframe has taken a height from its page and none has
/// changed for a second, and returns those heights.
async fn settled_heights(client: &Client) -> Vec<(String, f64)> {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last: Vec<(String, f64)> = script!(client, HEIGHTS);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now: Vec<(String, f64)> = script!(client, HEIGHTS);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if last.iter().all(|(h, _)| !h.is_empty())
            && since.elapsed() > Duration::from_secs(1)
        {
            return last;
        }
        assert!(Instant::now() < deadline, "the heights did not settle: {last:?}");
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
/// The messages are posted by the test from inside the iframe's page, once
/// the embedded pages have sent theirs and settled.
#[tokio::test(flavor = "multi_thread")]
async fn deck_sizes_an_iframe_from_its_pages_height_message() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html", host.url)).await.expect("deck opens");
    let before = settled_heights(&client).await;

    wait_for_diagram_in_frame(&client, 1).await;
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
    let sized: Vec<(String, f64)> = loop {
        let now: Vec<(String, f64)> = script!(&client, HEIGHTS);
        if now[1].0 == "612px" || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Give the ignored messages time to have had any effect they could.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after: Vec<(String, f64)> = script!(&client, HEIGHTS);
    assert_eq!(after, sized);
    assert_eq!(sized[1].0, "612px", "the second iframe takes the height, rounded: {sized:?}");
    assert!((sized[1].1 - 612.0).abs() < 0.5, "and is drawn that tall: {sized:?}");
    assert_ne!(before[1].0, "612px", "the page itself had asked for another height");
    for other in [0, 2] {
        assert_eq!(sized[other], before[other], "iframe {other} keeps its height");
    }
    client.close().await.unwrap();
}

/// With embed mode, each iframe takes the height its page asks for, and
/// keeps it while the run plays (no growth from frame to frame, nothing
/// scrolls inside); when the window narrows, the page asks again at its new
/// width and the iframe follows.
#[tokio::test(flavor = "multi_thread")]
async fn deck_iframe_keeps_its_pages_height_as_it_changes() {
    let host = serve_under(bundle(), SUB_PATH);
    let driver = chromedriver();
    let client = browser(&driver, 1280, 720).await;
    client.goto(&format!("{}deck.html", host.url)).await.expect("deck opens");
    // Every height the first slide's page asks for, from here on.
    client
        .execute(
            "window.asked = [];
             addEventListener('message', (e) => {
               const frame = document.querySelector('iframe');
               if (e.source === frame.contentWindow && e.data && e.data.type === 'brownout-height')
                 asked.push(e.data.height);
             });",
            vec![],
        )
        .await
        .unwrap();
    let wide = settled_heights(&client).await;
    let width_wide: f64 =
        script!(&client, "return document.querySelector('iframe').getBoundingClientRect().width;");

    // The run plays on for a few seconds: dots move, figures change, and
    // the height stays.
    client.enter_frame(0).await.unwrap();
    let start = brownout_e2e::sim_seconds(&client).await;
    clock_passes(&client, start + 0.5, Duration::from_secs(30)).await;
    let (fits, content) = fits_its_frame(&client).await;
    assert!(fits, "the embedded page scrolls inside its {} frame: content {content}", wide[0].0);
    client.enter_parent_frame().await.unwrap();
    for _ in 0..20 {
        let now: Vec<(String, f64)> = script!(&client, HEIGHTS);
        assert_eq!(now, wide, "the heights changed while the run played");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A narrower window: narrower slides, narrower frames, a new height.
    // (The first slide's frame is as tall as fits under its title, so only
    // a window narrower than that frame narrows it.)
    client.set_window_size(600, 720).await.unwrap();
    let narrow = settled_heights(&client).await;
    let width_narrow: f64 =
        script!(&client, "return document.querySelector('iframe').getBoundingClientRect().width;");
    assert!(width_narrow < width_wide - 50.0, "the frame narrowed: {width_wide} → {width_narrow}");
    let asked: Vec<f64> = script!(&client, "return asked;");
    let last = *asked.last().expect("the page asked for a height");
    assert_eq!(narrow[0].0, format!("{}px", last.clamp(120.0, 4000.0).round()), "{asked:?}");
    assert_ne!(narrow[0].0, wide[0].0, "the height followed the width: {asked:?}");
    client.enter_frame(0).await.unwrap();
    let (fits, content) = fits_its_frame(&client).await;
    assert!(fits, "after the resize the page scrolls in its {} frame: {content}", narrow[0].0);
    client.enter_parent_frame().await.unwrap();
    eprintln!(
        "first iframe: {} at {width_wide} px wide, {} at {width_narrow} px",
        wide[0].0, narrow[0].0
    );
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
