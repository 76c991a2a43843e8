//! Every experiment of the lab, run for a simulated minute in the release
//! bundle, with the lesson's effect read off the page: the comparison
//! table, the run's answer to the question, the breaker badge. Each test
//! saves a screenshot, `target/e2e/preset-{id}.png`, for review.

use brownout_e2e::{data_value, text_of, Lab};
use fantoccini::{Client, Locator};

/// Ten times real time: a simulated minute in six seconds, slow enough
/// that a state lasting a simulated second is seen by the watcher.
const SPEED: &str = "10";

/// The class of the breaker badge's output (`closed`, `open`,
/// `half-open`), or empty when the page shows no breaker.
async fn breaker_class(client: &Client) -> String {
    match client.find(Locator::Css("#breaker-state")).await {
        Ok(output) => output.attr("class").await.ok().flatten().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The highest busiest-pool figure each pane showed while the run played.
#[derive(Default, Debug)]
struct Peaks {
    saturation: [f64; 2],
}

impl Peaks {
    async fn sample(&mut self, client: &Client) {
        for pane in 0..2 {
            let css = format!("#cmp-saturation-{pane}");
            if let Some(v) = data_value(client, &css).await {
                self.saturation[pane] = self.saturation[pane].max(v);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn circuit_breaker_trips_probes_and_closes_and_keeps_the_pool_free() {
    let lab = Lab::open("circuit-breaker", 60).await;
    let mut states: Vec<String> = Vec::new();
    let mut peaks = Peaks::default();
    lab.run_until(SPEED, async |client: &Client, _now| {
        let state = breaker_class(client).await;
        if states.last() != Some(&state) {
            states.push(state);
        }
        peaks.sample(client).await;
    })
    .await;
    lab.screenshot("circuit-breaker").await;

    // The badge went round: closed, open, half-open, and closed at the end.
    assert_eq!(states.first().map(String::as_str), Some("closed"), "{states:?}");
    assert!(states.iter().any(|s| s == "open"), "{states:?}");
    assert!(states.iter().any(|s| s == "half-open"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("closed"), "{states:?}");
    // The run answers "how many times does it open?" with 4.
    assert_eq!(lab.answered_choice().await, 4.0);
    assert_eq!(lab.answer_measured().await, 4.0);
    // Without the breaker, calls to the hung pricing fill shop's pool.
    assert!(peaks.saturation[1] >= 95.0, "{peaks:?}");
    assert!(peaks.saturation[0] < 60.0, "{peaks:?}");
    // With it, nearly every request gets an answer, full or degraded.
    let with = lab.answered(0).await;
    let without = lab.answered(1).await;
    assert!(with > 95.0 && without < 80.0, "answered {with} % with, {without} % without");
    // The table says what failed outright, and the rows account for every
    // finished request.
    let failed = [lab.compared("failed", 0).await, lab.compared("failed", 1).await];
    assert!(failed[0] < 5.0 && failed[1] > 20.0, "failed: {failed:?}");
    for (pane, answered) in [with, without].into_iter().enumerate() {
        let all = answered + failed[pane];
        assert!((all - 100.0).abs() < 0.01, "pane {pane}: {answered} + {} %", failed[pane]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metastable_storm_outlives_its_trigger_unless_a_budget_stops_it() {
    let lab = Lab::open("metastable", 60).await;
    lab.run_until(SPEED, async |_: &Client, _| {}).await;
    lab.screenshot("metastable").await;

    let (storm, budget) = (lab.compared("success", 0).await, lab.compared("success", 1).await);
    assert!(storm < 25.0, "without a budget {storm} % succeed");
    assert!(budget > 80.0, "with a budget {budget} % succeed");
    assert_eq!(lab.answered_choice().await, 17.0);
    // Every try of every request in the storm: about 4 attempts at db.
    let amplification = lab.compared("amplification", 0).await;
    assert!(amplification > 3.0, "amplification {amplification}");
    assert!(lab.compared("amplification", 1).await < 1.5);

    // The phase map fills in, a few cells per frame, and shows both fates.
    lab.client.find(Locator::Css("#phase-start")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let map = lab.client.find(Locator::Css("#phase-map")).await.unwrap();
        let done: usize = map.attr("data-done").await.unwrap().unwrap().parse().unwrap();
        if done == 36 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the map has {done} of 36 cells");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let map = text_of(&lab.client, "#phase-map").await;
    lab.screenshot("metastable-phase-map").await;
    assert!(!map.is_empty());
    let recovered = lab.client.find_all(Locator::Css("#phase-map .recovered")).await.unwrap();
    let stuck = lab.client.find_all(Locator::Css("#phase-map .stuck")).await.unwrap();
    assert_eq!(recovered.len() + stuck.len(), 36, "{map}");
    assert_eq!((recovered.len(), stuck.len()), (13, 23), "{map}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_amplification_is_27_without_a_budget_and_bounded_with_one() {
    let lab = Lab::open("retry-budget", 60).await;
    lab.run_until(SPEED, async |_: &Client, _| {}).await;
    lab.screenshot("retry-budget").await;

    assert_eq!(lab.answered_choice().await, 27.0);
    let storm = lab.compared("amplification", 0).await;
    assert!((storm / 27.0 - 1.0).abs() <= 0.05, "without a budget {storm}× at payments");
    let budget = lab.compared("amplification", 1).await;
    assert!(budget < 2.0, "with a budget {budget}× at payments");
    // The storm climbs the chain: the gateway's pool is busy with retries.
    let (busy, calm) = (lab.compared("saturation", 0).await, lab.compared("saturation", 1).await);
    assert!(busy > 40.0 && calm < 10.0, "busiest pool {busy} % against {calm} %");
}

#[tokio::test(flavor = "multi_thread")]
async fn bulkheads_keep_the_healthy_path_answering() {
    let lab = Lab::open("bulkheads", 60).await;
    let mut peaks = Peaks::default();
    lab.run_until(SPEED, async |client: &Client, _| peaks.sample(client).await).await;
    lab.screenshot("bulkheads").await;

    assert_eq!(lab.answered_choice().await, 31.0);
    let with = lab.answered(0).await;
    let without = lab.answered(1).await;
    assert!(with > 95.0, "with bulkheads {with} % answered");
    assert!(without < 30.0, "without them {without} % answered");
    // Without bulkheads the slow search fills api's whole pool.
    assert!(peaks.saturation[1] >= 99.0, "{peaks:?}");
    assert!(peaks.saturation[0] < 90.0, "{peaks:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_degradation_answers_with_fallbacks_where_the_baseline_fails() {
    let lab = Lab::open("degradation", 60).await;
    lab.run_until(SPEED, async |_: &Client, _| {}).await;
    lab.screenshot("degradation").await;

    assert_eq!(lab.answered_choice().await, 34.0);
    let degraded = lab.compared("degraded", 0).await;
    assert!(degraded > 30.0, "{degraded} % degraded with fallbacks");
    assert!(lab.compared("degraded", 1).await < 1.0);
    // The same share answered in full; the rest is degraded rather than
    // failed.
    let with = lab.compared("success", 0).await + degraded;
    let without = lab.answered(1).await;
    assert!(with > 99.0 && without < 70.0, "answered {with} % against {without} %");
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_game_day_aborts_when_the_steady_state_fails() {
    let lab = Lab::open("chaos-game-day", 60).await;
    // The log keeps its last lines only: watch it as the run plays.
    let (mut faults_seen, mut aborted) = (0, String::new());
    lab.run_until(SPEED, async |client: &Client, _| {
        let chaos = client.find_all(Locator::Css("#events li.chaos")).await.unwrap();
        faults_seen = faults_seen.max(chaos.len());
        if aborted.is_empty() {
            aborted = text_of(client, "#events li.aborted").await;
        }
    })
    .await;
    lab.screenshot("chaos-game-day").await;

    assert_eq!(lab.answered_choice().await, 90.0);
    // The timeline's faults were listed as they started and ended, and the
    // hypothesis aborted the experiment.
    assert!(faults_seen >= 3, "{faults_seen} chaos lines");
    assert!(aborted.contains("aborted") && aborted.contains("40."), "{aborted}");
    let (with, without) = (lab.compared("success", 0).await, lab.compared("success", 1).await);
    assert!(with < 93.0 && without > 95.0, "success {with} % against {without} %");
}

#[tokio::test(flavor = "multi_thread")]
async fn full_jitter_spreads_the_retries_after_a_burst() {
    let lab = Lab::open("backoff-jitter", 60).await;
    lab.run_until(SPEED, async |_: &Client, _| {}).await;
    lab.screenshot("backoff-jitter").await;

    assert_eq!(lab.answered_choice().await, 96.0);
    let (jitter, herd) = (lab.compared("success", 0).await, lab.compared("success", 1).await);
    assert!(jitter > 94.0 && herd < 88.0, "success {jitter} % with jitter, {herd} % without");
    assert!(lab.compared("p99", 0).await < lab.compared("p99", 1).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consecutive_failures_breaker_trips_on_noise_and_a_rate_breaker_does_not() {
    let lab = Lab::open("breaker-noise", 60).await;
    lab.run_until(SPEED, async |_: &Client, _| {}).await;
    lab.screenshot("breaker-noise").await;

    assert_eq!(lab.answered_choice().await, 6.0);
    assert_eq!(lab.answer_measured().await, 6.0);
    // Played on, the breaker opens again, but the answer stays the
    // minute's: it was taken at 60 s.
    lab.client.find(Locator::Css("#play")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while brownout_e2e::sim_seconds(&lab.client).await < 90.0 {
        assert!(std::time::Instant::now() < deadline, "the run went on");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(lab.answer_measured().await, 6.0, "the answer is the minute's");
    let (noisy, steady) = (lab.compared("success", 0).await, lab.compared("success", 1).await);
    assert!(noisy < 60.0 && steady > 95.0, "success {noisy} % against {steady} %");
}
