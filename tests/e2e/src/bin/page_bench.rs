//! Benchmarks of the page in headless Chromium (not tests: nothing here
//! runs in `cargo test`). `bench/page.sh` builds the release bundle once
//! and runs this; see bench/README.md for the figures and what they mean.
//!
//! ```text
//! page_bench first-frame [LOADS]   time to the first animated frame, cold
//! page_bench frames [SECONDS]      frame work and frame rate, ~5,000 dots
//! page_bench soak [HOURS]          memory and frame time over simulated hours
//! page_bench shots                 screenshots of the crowded page
//! page_bench all                   the first three with their defaults
//! ```
//!
//! Everything is read from inside the page through the frame statistics it
//! exports (`crates/web/src/stats.rs`, on `window.wasmBindings`).

use std::time::{Duration, Instant};

use brownout_e2e::{
    browser_with, bundle, chromedriver, evaluate, screenshot, serve, sim_seconds, wait_until,
    Driver,
};
use fantoccini::Client;
use serde_json::Value;

/// Chromium's switches for the benchmarks: exact heap sizes, and `gc()`.
const SWITCHES: &[&str] = &["--enable-precise-memory-info", "--js-flags=--expose-gc"];

async fn open(driver: &Driver, url: &str) -> Client {
    let downloads = std::env::temp_dir().join("brownout-bench-downloads");
    let client = browser_with(driver, (1280, 1000), SWITCHES, &downloads).await;
    client.goto(url).await.expect("page opens");
    wait_until(
        &client,
        "return !!(window.wasmBindings && wasmBindings.first_frame_ms && \
         !isNaN(wasmBindings.first_frame_ms()));",
        Duration::from_secs(60),
        "the first frame",
    )
    .await;
    client
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().map(number).collect()).unwrap_or_default()
}

/// The `p`-th percentile (0 to 100) of `xs`, nearest rank.
fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(xs: &[f64]) -> f64 {
    percentile(xs, 50.0)
}

/// Frames over a stretch of real time.
struct Frames {
    work: Vec<f64>,
    fps: f64,
    /// Messages in flight, sampled once a second: min, max.
    in_flight: (f64, f64),
    drawn: (f64, f64),
    sim_from: f64,
    sim_to: f64,
}

impl Frames {
    fn line(&self) -> String {
        format!(
            "frame work p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames; \
             {:.1} frames/s; \
             in flight {:.0}–{:.0}, drawn {:.0}–{:.0}; simulated t = {:.1} → {:.1} s",
            percentile(&self.work, 50.0),
            percentile(&self.work, 95.0),
            percentile(&self.work, 99.0),
            percentile(&self.work, 100.0),
            self.work.len(),
            self.fps,
            self.in_flight.0,
            self.in_flight.1,
            self.drawn.0,
            self.drawn.1,
            self.sim_from,
            self.sim_to
        )
    }
}

/// Records `seconds` of frames in the page as it runs.
async fn frames(client: &Client, seconds: u64) -> Frames {
    let sim_from = sim_seconds(client).await;
    evaluate(client, "wasmBindings.frame_stats_reset(); return null;").await;
    let (mut in_flight, mut drawn) = ((f64::MAX, 0.0f64), (f64::MAX, 0.0f64));
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let dots =
            evaluate(client, "return [wasmBindings.dots_in_flight(), wasmBindings.dots_drawn()];")
                .await;
        let dots = numbers(&dots);
        in_flight = (in_flight.0.min(dots[0]), in_flight.1.max(dots[0]));
        drawn = (drawn.0.min(dots[1]), drawn.1.max(dots[1]));
    }
    let work = numbers(&evaluate(client, "return Array.from(wasmBindings.frame_work_ms());").await);
    let times =
        numbers(&evaluate(client, "return Array.from(wasmBindings.frame_times_ms());").await);
    let fps = match (times.first(), times.last()) {
        (Some(a), Some(b)) if b > a => (times.len() - 1) as f64 * 1000.0 / (b - a),
        _ => f64::NAN,
    };
    let sim_to = sim_seconds(client).await;
    Frames { work, fps, in_flight, drawn, sim_from, sim_to }
}

/// Cold loads of the default page, each in a fresh browser (empty cache,
/// new profile): the time from navigation start to its first animated
/// frame, as the page measured it.
async fn first_frame(site: &str, loads: usize) {
    let driver = chromedriver();
    let mut firsts = Vec::new();
    for i in 0..loads {
        let client = open(&driver, site).await;
        let timing = evaluate(
            &client,
            "const n = performance.getEntriesByType('navigation')[0];
             return [wasmBindings.first_frame_ms(), n.responseEnd, n.domContentLoadedEventEnd];",
        )
        .await;
        let t = numbers(&timing);
        println!(
            "load {}: first frame {:.0} ms (HTML received {:.0} ms, DOMContentLoaded {:.0} ms)",
            i + 1,
            t[0],
            t[1],
            t[2]
        );
        firsts.push(t[0]);
        client.close().await.expect("close");
    }
    println!(
        "FIRST FRAME (default page, {loads} cold loads): median {:.0} ms, min {:.0} ms, max {:.0} ms \
         (target ≤ 1000 ms)",
        median(&firsts),
        percentile(&firsts, 0.0),
        percentile(&firsts, 100.0)
    );
}

/// The crowd preset at the load slider's top, at real-time speed: about
/// 5,000 messages in flight. Measured with the page's cap on dots (as
/// shipped), then with every dot drawn, then the default page.
async fn frame_time(site: &str, seconds: u64) {
    let driver = chromedriver();
    let crowded = format!("{site}?preset=crowd&load=1000&speed=1");
    let client = open(&driver, &crowded).await;
    // The graph fills in about 1.2 simulated seconds; give it a few more.
    wait_until(
        &client,
        "return wasmBindings.dots_in_flight() > 4500;",
        Duration::from_secs(60),
        "5,000 dots in flight",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let capped = frames(&client, seconds).await;
    println!("FRAMES crowd load=1000 speed=1, dots capped (as shipped): {}", capped.line());
    evaluate(&client, "wasmBindings.set_dots_cap(0); return null;").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = frames(&client, seconds).await;
    println!("FRAMES crowd load=1000 speed=1, every dot drawn: {}", all.line());
    client.close().await.expect("close");

    let client = open(&driver, site).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let default = frames(&client, seconds).await;
    println!("FRAMES default page: {}", default.line());
    client.close().await.expect("close");
}

/// The page's memory after a forced garbage collection: JS heap used and
/// wasm linear memory, in MB.
async fn memory(client: &Client) -> (f64, f64) {
    let m = evaluate(
        client,
        "if (window.gc) { gc(); }
         return [performance.memory.usedJSHeapSize, wasmBindings.wasm_memory_bytes()];",
    )
    .await;
    let m = numbers(&m);
    (m[0] / 1e6, m[1] / 1e6)
}

/// The crowd preset at its own 500 requests/s: memory and frame time near
/// the start, then fast-forwarded through `hours` simulated hours in the
/// same page, then memory and frame time again.
async fn soak(site: &str, hours: f64) {
    let driver = chromedriver();
    let client = open(&driver, &format!("{site}?preset=crowd&speed=1")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (heap0, wasm0) = memory(&client).await;
    let start = frames(&client, 5).await;
    println!("SOAK start: JS heap {heap0:.1} MB, wasm memory {wasm0:.1} MB");
    println!("SOAK start frames: {}", start.line());
    let target = hours * 3600.0;
    evaluate(&client, &format!("wasmBindings.bench_fast_forward({target}); return null;")).await;
    let began = Instant::now();
    let mut next_report = 0.0;
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let now = sim_seconds(&client).await;
        if now >= next_report || now >= target {
            let (heap, wasm) = memory(&client).await;
            println!(
                "  after {:>4.0} s real: simulated {:>6.0} s ({:.1} h), JS heap {heap:.1} MB, wasm {wasm:.1} MB",
                began.elapsed().as_secs_f64(),
                now,
                now / 3600.0
            );
            next_report = now + 1800.0;
        }
        if now >= target {
            break;
        }
    }
    let rate = target / began.elapsed().as_secs_f64();
    println!(
        "SOAK fast-forward: {hours} h simulated in {:.0} s real ({rate:.0}× real time)",
        began.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (heap1, wasm1) = memory(&client).await;
    let end = frames(&client, 5).await;
    println!("SOAK end: JS heap {heap1:.1} MB, wasm memory {wasm1:.1} MB");
    println!("SOAK end frames: {}", end.line());
    println!(
        "SOAK ({hours} simulated h at 500 requests/s): JS heap {heap0:.1} → {heap1:.1} MB, wasm \
         memory {wasm0:.1} → {wasm1:.1} MB; frame work p50/p95 {:.2}/{:.2} → {:.2}/{:.2} ms",
        percentile(&start.work, 50.0),
        percentile(&start.work, 95.0),
        percentile(&end.work, 50.0),
        percentile(&end.work, 95.0)
    );
    client.close().await.expect("close");
}

/// Screenshots of the crowded page, sampled and not, for a look.
async fn shots(site: &str) {
    let driver = chromedriver();
    for (name, query, cap) in [
        ("bench-crowd-sampled.png", "?preset=crowd&load=1000&speed=1", None),
        ("bench-crowd-all.png", "?preset=crowd&load=1000&speed=1", Some(0)),
        ("bench-crowd-500.png", "?preset=crowd&speed=1", None),
        ("bench-crowd-embed.png", "?preset=crowd&load=1000&embed=1&controls=load,play", None),
    ] {
        let client = open(&driver, &format!("{site}{query}")).await;
        if let Some(cap) = cap {
            evaluate(&client, &format!("wasmBindings.set_dots_cap({cap}); return null;")).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        // The note, when there is one, in view with the diagram's bottom.
        let scroll = "const note = document.getElementById('crowd-note');
                      if (note) note.scrollIntoView({ block: 'end' }); return null;";
        evaluate(&client, scroll).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let path = screenshot(&client, name).await;
        println!("screenshot: {}", path.display());
        client.close().await.expect("close");
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    let arg = |default: f64| args.get(1).and_then(|a| a.parse().ok()).unwrap_or(default);
    let site = serve(bundle());
    match what {
        "first-frame" => first_frame(&site, arg(7.0) as usize).await,
        "frames" => frame_time(&site, arg(10.0) as u64).await,
        "soak" => soak(&site, arg(6.0)).await,
        "shots" => shots(&site).await,
        "all" => {
            first_frame(&site, 7).await;
            frame_time(&site, 10).await;
            soak(&site, 6.0).await;
        }
        other => {
            eprintln!("unknown benchmark {other:?}: first-frame, frames, soak, shots or all");
            std::process::exit(2);
        }
    }
}
