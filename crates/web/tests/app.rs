//! The app mounted in a real browser (headless Chromium, through
//! wasm-bindgen-test-runner and chromedriver).

use brownout_sim::time::SECOND;
use brownout_sim::{Scenario, Sim};
use brownout_web::{frames_run, running_loops, App};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{
    CanvasRenderingContext2d, Element, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement,
};

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

/// The app mounted as [`mount`] does, opened at a query string (as
/// `location.search` gives it), not owning the page.
fn mount_at(query: &str) -> (yew::AppHandle<App>, Element) {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let props = brownout_web::Props { query: Some(query.to_string().into()), owns_page: false };
    (yew::Renderer::<App>::with_root_and_props(root.clone(), props).render(), root)
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

/// Counts the browser's animation frames for `ms` milliseconds with a
/// requestAnimationFrame loop of the test's own.
async fn browser_frames_during(ms: u32) -> u32 {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    type Slot = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;
    let count = Rc::new(Cell::new(0u32));
    let slot: Slot = Rc::new(RefCell::new(None));
    let (inner_count, inner_slot) = (count.clone(), slot.clone());
    *slot.borrow_mut() = Some(Closure::new(move |_: f64| {
        inner_count.set(inner_count.get() + 1);
        if let Some(f) = inner_slot.borrow().as_ref() {
            let _ = web_sys::window().unwrap().request_animation_frame(f.as_ref().unchecked_ref());
        }
    }));
    let window = web_sys::window().unwrap();
    let started = count.get();
    let first =
        slot.borrow().as_ref().unwrap().as_ref().unchecked_ref::<js_sys::Function>().clone();
    window.request_animation_frame(&first).unwrap();
    TimeoutFuture::new(ms).await;
    // Dropping the closure ends the test's loop; a frame already asked for
    // would call a freed closure, so the slot is emptied only after one
    // more frame's time.
    let counted = count.get() - started;
    let _keep = slot.borrow_mut().take();
    TimeoutFuture::new(50).await;
    counted
}

/// Waits until `running_loops()` is `want`, and checks it stays there
/// for a moment; panics with `what` if it is not within two seconds. Yew
/// renders, and so starts and stops loops, on its own scheduler.
async fn loops_settle_at(want: usize, what: &str) {
    for _ in 0..400 {
        if running_loops() == want {
            TimeoutFuture::new(20).await;
            assert_eq!(running_loops(), want, "{what}: not steady");
            return;
        }
        assert!(running_loops() <= want.max(1), "{what}: {} loops", running_loops());
        TimeoutFuture::new(5).await;
    }
    panic!("{what}: {} loops, not {want}", running_loops());
}

/// Mounted and unmounted again and again, some copies unmounted as soon
/// as they render, the app leaves exactly one loop running: the count of
/// live loops says so, and so do the frames the loops run beside the
/// frames the browser draws (two loops would run two frames per frame).
#[wasm_bindgen_test]
async fn mounting_and_unmounting_again_and_again_leaves_one_loop() {
    let base = running_loops();
    for round in 0..30 {
        let (app, root) = mount();
        loops_settle_at(base + 1, &format!("round {round}, mounted")).await;
        if round % 3 == 0 {
            TimeoutFuture::new(50).await;
        }
        app.destroy();
        root.remove();
        loops_settle_at(base, &format!("round {round}, unmounted")).await;
    }
    assert_eq!(base, 0, "another test left its app mounted");
    let (app, root) = mount();
    loops_settle_at(1, "mounted at last").await;
    TimeoutFuture::new(300).await;
    let before = frames_run();
    let browser = browser_frames_during(1_000).await;
    let ran = frames_run() - before;
    assert!(browser >= 10, "the browser drew {browser} frames in a second");
    assert!(
        ran as f64 <= browser as f64 * 1.2 + 3.0 && ran as f64 >= browser as f64 * 0.8 - 3.0,
        "the app ran {ran} frames while the browser drew {browser}"
    );
    app.destroy();
    root.remove();
    loops_settle_at(0, "unmounted at last").await;
    let after = frames_run();
    TimeoutFuture::new(300).await;
    assert_eq!(frames_run(), after, "no frame runs after the last unmount");
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
    // No retries at all: the base case, one attempt per request, and the
    // panel that says so stays where it was.
    set(&root, "input#retries", "0", "input");
    TimeoutFuture::new(100).await;
    assert_eq!(find(&root, "#predicted").get_attribute("data-value").unwrap(), "1.0000");
    assert!(
        text(&root, ".lesson-text").contains("1 try per hop"),
        "{}",
        text(&root, ".lesson-text")
    );
    app.destroy();
}

/// Sets a control's value and sends the event the app listens to, as a
/// user's gesture would.
fn set(root: &Element, selector: &str, value: &str, event: &str) {
    let element = find(root, selector);
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
        select.set_value(value);
    }
    element.dispatch_event(&web_sys::Event::new(event).unwrap()).unwrap();
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

/// The colour of one canvas pixel at CSS coordinates, as "#rrggbb".
fn pixel(canvas: &HtmlCanvasElement, x: f64, y: f64) -> String {
    let ratio = web_sys::window().unwrap().device_pixel_ratio().max(1.0);
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let data = ctx.get_image_data(x * ratio, y * ratio, 1.0, 1.0).unwrap().data();
    format!("#{:02x}{:02x}{:02x}", data[0], data[1], data[2])
}

#[wasm_bindgen_test]
async fn the_policy_controls_are_labelled_and_start_off() {
    let (app, root) = mount();
    TimeoutFuture::new(300).await;

    let group = find(&root, "fieldset.policies");
    assert_eq!(find(&group, "legend").text_content().unwrap(), "Policies");
    for id in ["timeout", "breaker", "retry-budget", "jitter"] {
        find(&group, &format!("#{id}"));
        let label = text(&group, &format!("label[for={id}]"));
        assert!(!label.trim().is_empty(), "{id} is labelled");
    }
    // Each knob is described, and the description says where it acts.
    for (id, scope) in [
        ("timeout", "orders → payments"),
        ("breaker", "orders → payments"),
        ("retry-budget", "every hop"),
        ("jitter", "every hop"),
    ] {
        let help = find(&group, &format!("#{id}")).get_attribute("aria-describedby").unwrap();
        assert!(text(&group, &format!("#{help}")).contains(scope), "{id} acts on {scope}");
    }

    // The timeout starts where the scenario has it, and moves the hop's.
    let timeout: HtmlInputElement = find(&root, "input#timeout").dyn_into().unwrap();
    assert_eq!((timeout.type_().as_str(), timeout.min().as_str()), ("range", "50"));
    assert_eq!((timeout.max().as_str(), timeout.value().as_str()), ("2000", "1000"));
    assert_eq!(text(&root, "#timeout + output"), "1000 ms");
    set(&root, "input#timeout", "250", "input");
    TimeoutFuture::new(50).await;
    assert_eq!(text(&root, "#timeout + output"), "250 ms");
    assert!(text(&root, ".footnote").contains("orders → payments: 0.25 s"));

    // Every policy is off, so the retry lesson is the scenario's own.
    for id in ["breaker", "retry-budget"] {
        let switch: HtmlInputElement = find(&root, &format!("input#{id}")).dyn_into().unwrap();
        assert_eq!(switch.type_(), "checkbox");
        assert!(!switch.checked(), "{id} starts off");
        assert_eq!(text(&root, &format!("output[for={id}]")), "off");
    }
    let jitter: HtmlSelectElement = find(&root, "select#jitter").dyn_into().unwrap();
    assert_eq!(jitter.value(), "off");
    assert_eq!(jitter.length(), 5, "off, none, full, equal, decorrelated");
    let canvas = find(&root, "canvas#diagram");
    assert_eq!(canvas.get_attribute("data-badge"), None, "no breaker, no badge");

    // The budget and the jitter apply without complaint.
    let budget: HtmlInputElement = find(&root, "input#retry-budget").dyn_into().unwrap();
    budget.click();
    set(&root, "select#jitter", "decorrelated", "change");
    TimeoutFuture::new(400).await;
    let tokens = text(&root, "output[for=retry-budget]");
    assert!(tokens.ends_with(" of 10 tokens"), "{tokens}");
    assert_eq!(jitter.value(), "decorrelated");
    assert!(root.query_selector("[role=alert]").unwrap().is_none(), "nothing was refused");
    app.destroy();
}

#[wasm_bindgen_test]
async fn the_breaker_badge_opens_at_100_percent_errors() {
    let (app, root) = mount();
    TimeoutFuture::new(200).await;
    let canvas: HtmlCanvasElement = find(&root, "canvas#diagram").dyn_into().unwrap();

    set(&root, "input#error-rate", "100", "input");
    find(&root, "input#breaker").dyn_into::<HtmlInputElement>().unwrap().click();
    TimeoutFuture::new(100).await;
    assert!(find(&root, "input#breaker").dyn_into::<HtmlInputElement>().unwrap().checked());
    assert_ne!(text(&root, "output[for=breaker]"), "off");
    assert!(canvas.get_attribute("data-badge").is_some(), "the badge appears");

    // Let simulated time pass quickly until the breaker has tripped: ten
    // failed calls fill its window within a simulated second or two.
    set(&root, "select#speed", "5", "change");
    let mut waited = 0;
    while canvas.get_attribute("data-badge").as_deref() != Some("OPEN") {
        assert!(waited < 15_000, "the badge reads OPEN within 15 s of real time");
        TimeoutFuture::new(50).await;
        waited += 50;
    }
    // The badge is really painted, in OPEN's colour: probe its fill just
    // inside the top-left corner's rounding.
    let rect: Vec<f64> = canvas
        .get_attribute("data-badge-box")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(pixel(&canvas, rect[0] + 4.0, rect[1] + rect[3] / 2.0), "#b23c00");

    // The transition is in the event list, with its time and cause.
    TimeoutFuture::new(300).await;
    let first = text(&root, "#events li:last-child");
    assert!(first.contains("breaker CLOSED → OPEN"), "{first}");
    assert!(first.contains("orders → payments"), "{first}");
    assert!(first.contains("100 % of recent calls failed"), "{first}");

    // Turned off, the badge goes.
    find(&root, "input#breaker").dyn_into::<HtmlInputElement>().unwrap().click();
    TimeoutFuture::new(100).await;
    assert_eq!(canvas.get_attribute("data-badge"), None);
    app.destroy();
}

#[wasm_bindgen_test]
fn the_simulation_runs_identically_on_wasm() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    sim.advance_to(30 * SECOND);
    assert_eq!(sim.metrics().totals().digest(), RETRY_CHAIN_DIGEST_30S);
}

/// The app opened on an address with mistakes in it: a notice names each
/// parameter left out, as text (markup in the address stays text), and
/// the rest of the address applies.
#[wasm_bindgen_test]
async fn a_bad_address_is_named_as_text_and_the_rest_applies() {
    let document = web_sys::window().unwrap().document().unwrap();
    let (app, root) =
        mount_at("?retries=9&error=100&load=%3Cb%20id%3Dinjected%3Ebold%3C%2Fb%3E&nonsense=1");
    TimeoutFuture::new(300).await;

    let notice = find(&root, "#url-notice");
    assert_eq!(notice.get_attribute("role").as_deref(), Some("status"));
    let items: Vec<String> = (0..3)
        .map(|i| {
            let item = root.query_selector_all("#url-notice li").unwrap().item(i).unwrap();
            item.text_content().unwrap()
        })
        .collect();
    assert_eq!(
        items,
        [
            "nonsense=1: unknown parameter, ignored",
            "load=<b id=injected>bold</b>: not a number, using 10",
            "retries=9: out of range 0 to 5, using 2",
        ]
    );
    assert!(document.get_element_by_id("injected").is_none(), "no markup from the address");
    assert_eq!(text(&root, "#error-rate + output"), "100 %", "error=100 applies");
    assert_eq!(text(&root, "#retries + output"), "2 retries = 3 tries");
    // Dismissed, it goes.
    find(&root, "#url-notice .close").dyn_into::<web_sys::HtmlElement>().unwrap().click();
    TimeoutFuture::new(50).await;
    assert!(root.query_selector("#url-notice").unwrap().is_none());
    app.destroy();
}

/// The simulated time the clock shows, in seconds (`t = 12.3 s`).
fn clock_seconds(root: &Element) -> f64 {
    let clock = text(root, "#clock");
    clock.trim_start_matches("t = ").trim_end_matches(" s").parse().unwrap_or(0.0)
}

/// Waits (30 s at most) until the run's clock shows `at` seconds or more,
/// and a little longer, for the figures shown at that time to render.
async fn run_to(root: &Element, at: f64) {
    for _ in 0..300 {
        if clock_seconds(root) >= at {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    TimeoutFuture::new(300).await;
    assert!(clock_seconds(root) >= at, "the run got to {} s, not {at}", clock_seconds(root));
}

/// A small deterministic generator for the abuse test: the same sequence
/// of gestures on every run, so that a failure can be replayed.
struct Gestures(u64);

impl Gestures {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for picking controls and values.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every control of the page, driven to random values for three
/// simulated minutes: in range, at both ends, past them and not numbers
/// at all, with experiments switched and the comparison toggled between.
/// The page must never panic or freeze: frames keep coming between the
/// bursts of gestures, at the end the clock still advances, no
/// internal-error banner is shown, and the figures still read.
#[wasm_bindgen_test]
async fn random_gestures_on_every_control_never_panic_or_freeze() {
    brownout_web::install_panic_banner();
    let (app, root) = mount();
    TimeoutFuture::new(200).await;
    let mut g = Gestures(0x9e37_79b9_7f4a_7c15);
    let garbage = ["", "abc", "-1", "1e308", "-1e308", "NaN", "Infinity", "0x10", "99999999999"];
    // Simulated time played, summed over the runs the gestures start
    // (a new experiment or seed starts its clock again at zero).
    let (mut played, mut last_clock) = (0.0f64, 0.0f64);
    let (mut frames_seen, mut round) = (frames_run(), 0u32);
    let deadline = js_sys::Date::now() + 120_000.0;
    while played < 180.0 {
        assert!(js_sys::Date::now() < deadline, "only {played:.0} s simulated in two minutes");
        round += 1;
        let controls = root.query_selector_all("input, select").unwrap();
        let element: Element =
            controls.item(g.below(controls.length() as usize) as u32).unwrap().dyn_into().unwrap();
        if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            match input.type_().as_str() {
                "checkbox" => {
                    input.set_checked(!input.checked());
                    element.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
                }
                "range" | "number" => {
                    let (min, max) = (
                        input.min().parse::<f64>().unwrap_or(0.0),
                        input.max().parse::<f64>().unwrap_or(1e6),
                    );
                    let value = match g.below(4) {
                        0 => min.to_string(),
                        1 => max.to_string(),
                        2 => garbage[g.below(garbage.len())].to_string(),
                        _ => (min + (max - min) * (g.next() % 1000) as f64 / 1000.0).to_string(),
                    };
                    input.set_value(&value);
                    let event = if g.below(2) == 0 { "input" } else { "change" };
                    element.dispatch_event(&web_sys::Event::new(event).unwrap()).unwrap();
                }
                _ => {}
            }
        } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            let count = select.length();
            if g.below(5) == 0 {
                select.set_value("no-such-choice");
            } else {
                select.set_selected_index(g.below(count as usize) as i32);
            }
            element.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
        }
        if round % 8 == 0 {
            TimeoutFuture::new(30).await;
        }
        if round % 40 == 0 {
            // Between bursts of gestures the run plays fast for a moment,
            // so that minutes of simulated time pass under them.
            set(&root, "#speed", "20", "change");
            if text(&root, "#play") == "Play" {
                find(&root, "#play").dyn_into::<web_sys::HtmlElement>().unwrap().click();
            }
            TimeoutFuture::new(300).await;
            assert!(frames_run() > frames_seen, "round {round}: no frame in 300 ms");
            frames_seen = frames_run();
            let clock = clock_seconds(&root);
            played += if clock >= last_clock { clock - last_clock } else { clock };
            last_clock = clock;
        }
    }
    assert!(
        root.owner_document().unwrap().get_element_by_id("fatal").is_none(),
        "no internal error"
    );
    // Fast and running: the clock must still move.
    set(&root, "#speed", "20", "change");
    if find(&root, "#play").text_content().unwrap_or_default() == "Play" {
        find(&root, "#play").dyn_into::<web_sys::HtmlElement>().unwrap().click();
    }
    TimeoutFuture::new(100).await;
    let before = text(&root, "#clock");
    TimeoutFuture::new(1_000).await;
    assert_ne!(text(&root, "#clock"), before, "the run still advances");
    assert!(
        root.owner_document().unwrap().get_element_by_id("fatal").is_none(),
        "no internal error"
    );
    assert!(root.query_selector("canvas#diagram").unwrap().is_some());
    app.destroy();
}

/// A link's values are on the controls from the first render, not only
/// after the animation's first refresh of the figures (the error-rate
/// slider reads the figures, which once held the preset's 10 % until then).
#[wasm_bindgen_test]
async fn a_link_s_values_are_on_the_controls_from_the_first_render() {
    let (app, root) = mount_at("?preset=retry-chain&error=40&retries=3");
    // Yew renders on its scheduler; read as soon as the controls exist,
    // before any animation frame has had a chance to refresh the figures.
    let mut waited = 0;
    while root.query_selector("#error-rate").unwrap().is_none() && waited < 200 {
        TimeoutFuture::new(0).await;
        waited += 1;
    }
    let slider: HtmlInputElement = find(&root, "#error-rate").dyn_into().unwrap();
    assert_eq!(slider.value(), "40", "the slider holds the link's error rate");
    assert_eq!(text(&root, "#error-rate + output"), "40 %");
    assert_eq!(text(&root, "#retries + output"), "3 retries = 4 tries");
    app.destroy();
}

/// The lesson's sentence about refused retries names the policies that are
/// on, and only those.
#[wasm_bindgen_test]
async fn the_lesson_names_only_the_policies_that_are_on() {
    let cases = [
        ("", None),
        ("&budget=1", Some("The retry budget refuses calls the retries would make")),
        ("&breaker=1", Some("The breaker refuses calls the retries would make")),
        ("&breaker=1&budget=1", Some("The breaker and the retry budget refuse calls")),
    ];
    for (extra, want) in cases {
        let query = format!("?preset=retry-chain{extra}");
        let (app, root) = mount_at(&query);
        TimeoutFuture::new(50).await;
        let lesson = text(&root, ".lesson-text");
        match want {
            Some(sentence) => assert!(lesson.contains(sentence), "{query}: {lesson}"),
            None => assert!(!lesson.contains("refuse"), "{query}: {lesson}"),
        }
        if extra == "&budget=1" {
            assert!(!lesson.contains("breaker"), "{query}: {lesson}");
        }
        app.destroy();
        root.remove();
    }
}

/// A lesson's question is marked only for the experiment as set: with a
/// control moved off the experiment's settings (here its breaker, which the
/// question is about), the run's figure is shown with what changed, no
/// choice is marked right, and the panes' names say what changed too.
#[wasm_bindgen_test]
async fn a_question_is_marked_only_for_the_experiment_as_set() {
    for (query, graded) in
        [("?preset=circuit-breaker&t=61", true), ("?preset=circuit-breaker&breaker=0&t=61", false)]
    {
        let (app, root) = mount_at(query);
        TimeoutFuture::new(300).await;
        run_to(&root, 61.0).await;
        let answer = text(&root, "#answer");
        let marked = root.query_selector("#question .choice.right").unwrap();
        let labels = text(&root, ".panes");
        if graded {
            assert!(answer.contains("nearest choice 4"), "{query}: {answer}");
            assert_eq!(marked.unwrap().get_attribute("data-value").as_deref(), Some("4"));
            assert!(!labels.contains("changed"), "{labels}");
            // The comparison taken away and put back runs the same
            // experiment from the start: still as set, still marked.
            for _ in 0..2 {
                find(&root, "#compare").dyn_into::<web_sys::HtmlElement>().unwrap().click();
                TimeoutFuture::new(200).await;
            }
            set(&root, "#speed", "20", "change");
            run_to(&root, 61.0).await;
            let marked = root.query_selector("#question .choice.right").unwrap();
            let answer = text(&root, "#answer");
            assert!(marked.is_some(), "after the comparison went and came back: {answer}");
        } else {
            assert!(marked.is_none(), "{query}: a choice marked right: {answer}");
            assert!(answer.starts_with("The run measured 0, with breaker off:"), "{answer}");
            assert!(labels.contains("with the breaker · changed: breaker off"), "{labels}");
        }
        app.destroy();
        root.remove();
    }
}

/// A control moved away and back leaves the controls as set but the run
/// changed: the question is not marked, nor after a restart (moving a
/// control can change what the controls do not show). Opening the
/// experiment again runs it as set, and the answer is marked.
#[wasm_bindgen_test]
async fn a_control_moved_away_and_back_leaves_the_question_unmarked_until_reopened() {
    let (app, root) = mount_at("?preset=circuit-breaker&t=5");
    TimeoutFuture::new(300).await;
    run_to(&root, 5.0).await;
    set(&root, "input#error-rate", "50", "input");
    TimeoutFuture::new(200).await;
    set(&root, "input#error-rate", "0", "input");
    set(&root, "#speed", "20", "change");
    run_to(&root, 61.0).await;
    let answer = text(&root, "#answer");
    assert!(root.query_selector("#question .choice.right").unwrap().is_none(), "{answer}");
    assert!(answer.contains("with controls moved since the experiment opened"), "{answer}");
    assert!(text(&root, ".panes").contains("with the breaker · changed"));

    find(&root, "#restart").dyn_into::<web_sys::HtmlElement>().unwrap().click();
    TimeoutFuture::new(300).await;
    run_to(&root, 61.0).await;
    assert!(root.query_selector("#question .choice.right").unwrap().is_none());

    set(&root, "#experiment", "circuit-breaker", "change");
    TimeoutFuture::new(300).await;
    set(&root, "#speed", "20", "change");
    run_to(&root, 61.0).await;
    let answer = text(&root, "#answer");
    let marked = root.query_selector("#question .choice.right").unwrap();
    assert_eq!(marked.map(|m| m.get_attribute("data-value")), Some(Some("4".into())), "{answer}");
    app.destroy();
    root.remove();
}

/// Under a schedule of rates the load control says what the client sends
/// now, not only where its slider starts; moved, the slider's rate
/// replaces the schedule and the control says that rate.
#[wasm_bindgen_test]
async fn the_load_control_says_the_rate_a_schedule_sends_now() {
    let (app, root) = mount_at("?preset=load-spike&t=30");
    TimeoutFuture::new(300).await;
    run_to(&root, 30.0).await;
    assert_eq!(text(&root, "#load + output"), "300 req/s now, on a schedule");
    set(&root, "input#load", "50", "input");
    TimeoutFuture::new(300).await;
    assert_eq!(text(&root, "#load + output"), "50 req/s");
    app.destroy();
    root.remove();
}
