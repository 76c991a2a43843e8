//! The app mounted in a real browser (headless Chromium, through
//! wasm-bindgen-test-runner and chromedriver).

use brownout_sim::time::SECOND;
use brownout_sim::{Scenario, Sim};
use brownout_web::{running_loops, App};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlCanvasElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The digest of the default chain's counters after 30 simulated seconds,
/// as the native test suite of the core pins it: the same run on wasm.
const RETRY_CHAIN_DIGEST_30S: u64 = 2_497_340_286_623_273_329;

fn mount() -> (yew::AppHandle<App>, Element) {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    (yew::Renderer::<App>::with_root(root.clone()).render(), root)
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector).unwrap().unwrap_or_else(|| panic!("{selector} is on the page"))
}

#[wasm_bindgen_test]
async fn mounts_the_diagram_and_the_sliders() {
    let (app, root) = mount();
    TimeoutFuture::new(400).await;

    let canvas: HtmlCanvasElement = find(&root, "canvas#diagram").dyn_into().unwrap();
    assert!(canvas.width() > 0 && canvas.height() > 0, "the canvas has a backing store");

    for (id, max) in [("error-rate", "100"), ("retries", "5"), ("load", "200")] {
        let input: HtmlInputElement = find(&root, &format!("input#{id}")).dyn_into().unwrap();
        assert_eq!(input.type_(), "range");
        assert_eq!(input.max(), max, "{id}");
        let label = find(&root, &format!("label[for={id}]"));
        assert!(!label.text_content().unwrap().is_empty(), "{id} is labelled");
    }
    assert_eq!(find(&root, "#retries + output").text_content().unwrap(), "2 retries = 3 tries");
    assert_eq!(running_loops(), 1);

    // The clock moves: the animation loop is advancing the simulation.
    let clock = || find(&root, "#clock").text_content().unwrap();
    let before = clock();
    TimeoutFuture::new(800).await;
    assert_ne!(clock(), before, "simulated time advances");

    app.destroy();
    TimeoutFuture::new(50).await;
    assert_eq!(running_loops(), 0, "unmounting stops the animation loop");
}

#[wasm_bindgen_test]
async fn a_slider_changes_the_running_simulation() {
    let (app, root) = mount();
    TimeoutFuture::new(100).await;
    let input: HtmlInputElement = find(&root, "input#error-rate").dyn_into().unwrap();
    input.set_value("100");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    TimeoutFuture::new(100).await;
    assert_eq!(find(&root, "#error-rate + output").text_content().unwrap(), "100 %");
    assert_eq!(find(&root, "#predicted").get_attribute("data-value").unwrap(), "27.0000");
    app.destroy();
}

#[wasm_bindgen_test]
fn the_simulation_runs_identically_on_wasm() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    sim.advance_to(30 * SECOND);
    assert_eq!(sim.metrics().totals().digest(), RETRY_CHAIN_DIGEST_30S);
}
