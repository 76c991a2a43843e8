//! The release bundle in headless Chromium, driven as a user would.

use std::time::{Duration, Instant};

use brownout_e2e::{
    browser, bundle, chromedriver, devtools, evaluate, screenshot, serve, set_control, wait_for,
    Driver,
};
use fantoccini::{Client, Locator};

/// The bundle served, a browser of 1280×1000 on its default page with the
/// diagram up: the site's address, the driver (kept alive while the
/// client is used) and the client.
async fn open_default_page() -> (String, Driver, Client) {
    let site = serve(bundle());
    let driver = chromedriver();
    let client = browser(&driver, 1280, 1000).await;
    client.goto(&site).await.expect("page opens");
    wait_for(&client, "canvas#diagram").await;
    (site, driver, client)
}

/// A newcomer's retry storm: payments fails every time, every hop retries
/// twice, and the page must read 3 × 3 × 3 = 27 attempts per request at
/// payments, both as the prediction and as the measurement.
#[tokio::test(flavor = "multi_thread")]
async fn retry_storm_reads_27_attempts_at_payments() {
    let (_site, _driver, client) = open_default_page().await;
    wait_for(&client, "#amp-payments").await;

    set_control(&client, "error-rate", "100", "input").await;
    set_control(&client, "retries", "2", "input").await;
    set_control(&client, "speed", "10", "change").await;

    let predicted = client.find(Locator::Css("#predicted")).await.unwrap();
    assert_eq!(predicted.attr("data-value").await.unwrap().as_deref(), Some("27.0000"));
    let retries_label = client.find(Locator::Css("#retries + output")).await.unwrap();
    assert_eq!(retries_label.text().await.unwrap(), "2 retries = 3 tries");

    // Wait for requests started after the change to settle: each takes
    // about 4 simulated seconds at 100 % errors.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = None;
    let measured = loop {
        let cell = client.find(Locator::Css("#amp-payments")).await.unwrap();
        let value = cell.attr("data-value").await.unwrap().unwrap_or_default();
        let clock = client.find(Locator::Css("#clock")).await.unwrap().text().await.unwrap();
        if let Ok(v) = value.parse::<f64>() {
            let settled_for = clock
                .trim_start_matches("t = ")
                .trim_end_matches(" s")
                .parse::<f64>()
                .unwrap_or(0.0);
            last = Some(v);
            // Read it once the window has a few simulated seconds in it.
            if settled_for > 15.0 {
                break v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no amplification read in time; last {last:?}, clock {clock}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let shot = screenshot(&client, "retry-storm-27x.png").await;
    eprintln!("screenshot: {}", shot.display());
    assert!(
        (measured / 27.0 - 1.0).abs() <= 0.05,
        "measured {measured}× at payments, expected 27× ± 5 %"
    );

    let measured_text = client.find(Locator::Css("#measured")).await.unwrap().text().await.unwrap();
    assert!(
        measured_text.ends_with('×'),
        "the lesson panel shows the measurement: {measured_text}"
    );
    client.close().await.unwrap();
}

/// A crowded diagram draws a sample of its dots and says so, in text
/// under the picture; an ordinary one draws every dot and says nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_crowded_diagram_says_it_draws_a_sample() {
    // The default page: a few dots, all drawn, no note.
    let (site, _driver, client) = open_default_page().await;
    brownout_e2e::clock_passes(&client, 2.0, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        client.find(Locator::Css("#crowd-note")).await.is_err(),
        "no note on an uncrowded diagram"
    );

    // The crowd at the slider's top: about 5,000 messages in flight.
    client.goto(&format!("{site}?preset=crowd&load=1000&speed=1")).await.expect("page opens");
    wait_for(&client, "#crowd-note").await;
    let note = client.find(Locator::Css("#crowd-note")).await.unwrap();
    let text = note.text().await.unwrap();
    assert!(text.starts_with("Showing 1 in "), "{text}");
    let read = |name: &'static str| {
        let note = note.clone();
        async move { note.attr(name).await.unwrap().unwrap().parse::<usize>().unwrap() }
    };
    let (in_flight, drawn, stride) =
        (read("data-in-flight").await, read("data-drawn").await, read("data-stride").await);
    assert!(stride >= 2, "a sample: 1 in {stride}");
    assert!(drawn < in_flight, "{drawn} of {in_flight} drawn");
    assert!(text.contains(&format!("1 in {stride} ")), "{text}");
    // The note is text, not markup.
    let html = note.html(true).await.unwrap();
    assert!(!html.contains('<'), "{html}");
    client.close().await.unwrap();
}

/// On a phone (a page 320 or 375 px wide) nothing widens the page: the
/// lesson's figures shrink to share the width, and the tables scroll
/// inside their own boxes. Every experiment with a comparison is opened
/// with it on, since its side-by-side table is the widest.
#[tokio::test(flavor = "multi_thread")]
async fn on_a_phone_nothing_widens_the_page() {
    let (site, _driver, client) = open_default_page().await;
    for width in [320, 375] {
        // A phone's width is below the smallest window Chromium opens:
        // the page is given it as a device's screen instead.
        let metrics = serde_json::json!({
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true,
        });
        devtools(&client, "Emulation.setDeviceMetricsOverride", metrics).await;
        for preset in ["retry-chain", "bulkheads", "degradation", "circuit-breaker", "metastable"] {
            client.goto(&format!("{site}?preset={preset}&compare=1")).await.unwrap();
            wait_for(&client, "canvas#diagram").await;
            // The measurement starts as the word "measuring…": the widest
            // the lesson gets.
            tokio::time::sleep(Duration::from_millis(400)).await;
            let widths = evaluate(
                &client,
                "return [document.documentElement.scrollWidth, innerWidth,
                         !!document.querySelector('#comparison')];",
            )
            .await;
            let (page, room) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
            assert_eq!(room, width, "the page is {width} px wide");
            assert!(page <= room, "{preset} at {width} px: the page is {page} px wide");
            if preset == "bulkheads" {
                assert_eq!(widths[2], true, "the side-by-side table is on the page");
            }
        }
        let shot = screenshot(&client, &format!("phone-{width}.png")).await;
        assert!(shot.exists());
    }
    client.close().await.unwrap();
}

/// On a phone the table of live figures per service (nine columns)
/// scrolls in its own box, and says so:
/// the edge with more to show fades and a line above the table says that
/// it scrolls; scrolled to its end, the fade moves to the other edge. On a
/// wide page, where the table fits, neither shows.
#[tokio::test(flavor = "multi_thread")]
async fn a_table_wider_than_a_phone_says_that_it_scrolls() {
    let (site, _driver, client) = open_default_page().await;
    let state = "const box = document.querySelector('table.figures').parentElement;
                 const hint = box.previousElementSibling;
                 return [box.scrollWidth > box.clientWidth, box.dataset.more || '',
                         hint.classList.contains('scroll-hint') && hint.getClientRects().length > 0,
                         getComputedStyle(box).maskImage || getComputedStyle(box).webkitMaskImage];";
    let read = |v: serde_json::Value| {
        let fade = v[3].as_str().unwrap_or("none").to_string();
        (v[0] == true, v[1].as_str().unwrap().to_string(), v[2] == true, fade)
    };
    for width in [320, 375] {
        let metrics = serde_json::json!({
            "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true,
        });
        devtools(&client, "Emulation.setDeviceMetricsOverride", metrics).await;
        client.goto(&format!("{site}?preset=circuit-breaker&compare=1")).await.unwrap();
        wait_for(&client, "#comparison").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (overflows, more, hint, fade) = read(evaluate(&client, state).await);
        assert!(overflows, "the table is wider than a {width} px screen");
        assert_eq!(more, "right", "at {width} px the table has more to its right");
        assert!(hint, "at {width} px the line above the table shows");
        assert!(fade.contains("gradient"), "at {width} px the right edge fades: {fade}");

        client
            .execute(
                "document.querySelector('table.figures').parentElement.scrollLeft = 1e6;",
                vec![],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (_, more, hint, _) = read(evaluate(&client, state).await);
        assert_eq!(more, "left", "scrolled to its end at {width} px, the rest is to the left");
        assert!(hint, "the line stays while the table overflows");
    }
    devtools(&client, "Emulation.clearDeviceMetricsOverride", serde_json::json!({})).await;
    client.goto(&format!("{site}?preset=circuit-breaker&compare=1")).await.unwrap();
    wait_for(&client, "#comparison").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (overflows, more, hint, fade) = read(evaluate(&client, state).await);
    assert!(!overflows, "at 1280 px the table fits");
    assert_eq!(more, "", "nothing is marked where the table fits");
    assert!(!hint, "no line where the table fits");
    assert_eq!(fade, "none", "no fade where the table fits");

    // Paused, nothing renders; a screen that narrows still gets the mark.
    client.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let metrics = serde_json::json!({
        "width": 375, "height": 800, "deviceScaleFactor": 1, "mobile": true,
    });
    devtools(&client, "Emulation.setDeviceMetricsOverride", metrics).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (overflows, more, hint, _) = read(evaluate(&client, state).await);
    assert!(overflows, "narrowed to 375 px, the table overflows");
    assert_eq!(more, "right", "narrowed while paused, the table is marked");
    assert!(hint, "narrowed while paused, the line above the table shows");
    devtools(&client, "Emulation.clearDeviceMetricsOverride", serde_json::json!({})).await;
    client.close().await.unwrap();
}

/// The chart of busy workers accounts for every service: the crowd's
/// thirteen are named in its key or counted in a "+N more" entry for the
/// ones drawn grey, at a desktop's width and at a phone's.
#[tokio::test(flavor = "multi_thread")]
async fn the_workers_chart_accounts_for_every_service_of_the_crowd() {
    let (site, _driver, client) = open_default_page().await;
    let key = "return document.getElementById('charts').dataset.pools || '';";
    // How many services a key names or counts: "a, b, +11 more" is 13.
    let counted = |key: &str| -> usize {
        key.split(", ")
            .map(|entry| match entry.strip_prefix('+').and_then(|e| e.strip_suffix(" more")) {
                Some(n) => n.parse().unwrap(),
                None => match entry.strip_suffix(" services") {
                    Some(n) => n.parse().unwrap(),
                    None => 1,
                },
            })
            .sum()
    };
    for width in [1280, 375, 320] {
        if width < 1280 {
            let metrics = serde_json::json!({
                "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true,
            });
            devtools(&client, "Emulation.setDeviceMetricsOverride", metrics).await;
        }
        client.goto(&format!("{site}?preset=crowd")).await.unwrap();
        wait_for(&client, "#charts[data-pools]").await;
        let text = evaluate(&client, key).await.as_str().unwrap().to_string();
        assert_eq!(counted(&text), 13, "at {width} px the key accounts for 13 services: {text}");
        assert!(text.starts_with("gateway"), "the first service is named: {text}");
        if width == 1280 {
            assert_eq!(
                text, "gateway, search, catalog, pricing, reviews, +8 more",
                "a desktop names five and counts the rest"
            );
        }
    }
    // A graph that fits the palette names every service, as before.
    devtools(&client, "Emulation.clearDeviceMetricsOverride", serde_json::json!({})).await;
    client.goto(&format!("{site}?preset=retry-chain")).await.unwrap();
    wait_for(&client, "#charts[data-pools]").await;
    let text = evaluate(&client, key).await;
    assert_eq!(text.as_str(), Some("gateway, orders, payments"));
    client.close().await.unwrap();
}
