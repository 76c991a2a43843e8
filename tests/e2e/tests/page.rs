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
