//! Wide tables on narrow screens: each scrolls sideways in a box of its own
//! rather than widening the page, and says so.
//!
//! A table cut at the edge of a phone's screen looks finished, so the box
//! is marked with the sides on which it has more to show (`data-more`:
//! `left`, `right` or both; no attribute when all of it fits). The
//! stylesheet fades those edges and shows the one-line hint above the box;
//! on a screen where the table fits, neither appears.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, Window};
use yew::prelude::*;

/// The class of the scrolling box, for the stylesheet and for
/// [`mark_all`].
const SCROLLER: &str = "table-scroll";

/// `table` in its scrolling box, under the hint that shows when the box
/// overflows. The hint is for the eye only: a screen reader walks the
/// table's cells whatever their width on the screen.
pub(crate) fn scroller(table: Html) -> Html {
    // Scrolling changes which side has more, not whether it overflows:
    // the mark follows at once, without a render of the app.
    let onscroll = Callback::from(|event: Event| {
        if let Some(element) = event.target_dyn_into::<Element>() {
            mark(&element);
        }
    });
    html! {
        <>
        <p class="scroll-hint" aria-hidden="true">{ "Scroll sideways for more columns" }</p>
        <div class={SCROLLER} {onscroll}>{ table }</div>
        </>
    }
}

/// Marks every scrolling box under `root`. Called after each render (the
/// figures change a few times a second, and the window's width with them),
/// so a table that grows, or a screen that turns, is marked again.
pub(crate) fn mark_all(root: &HtmlElement) {
    let boxes = root.get_elements_by_class_name(SCROLLER);
    for i in 0..boxes.length() {
        if let Some(element) = boxes.item(i) {
            mark(&element);
        }
    }
}

/// Marks the boxes under `root` again whenever the window changes size:
/// on a paused page nothing renders, and a phone turned on its side would
/// otherwise keep the mark of its old width. The listener goes when this
/// is dropped.
pub(crate) struct MarkOnResize {
    window: Window,
    listener: Closure<dyn FnMut()>,
}

impl MarkOnResize {
    pub(crate) fn new(root: NodeRef) -> Option<Self> {
        let window = web_sys::window()?;
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(root) = root.cast::<HtmlElement>() {
                mark_all(&root);
            }
        });
        window
            .add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref())
            .ok()?;
        Some(MarkOnResize { window, listener })
    }
}

impl Drop for MarkOnResize {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener_with_callback("resize", self.listener.as_ref().unchecked_ref());
    }
}

/// Sets `data-more` on one box from its scroll width and position, and
/// touches the attribute only when it changes.
fn mark(element: &Element) {
    let hidden = element.scroll_width() - element.client_width();
    let at = element.scroll_left();
    // A pixel of slack: zoomed pages round their widths.
    let left = hidden > 1 && at > 1;
    let right = hidden > 1 && at < hidden - 1;
    let more = match (left, right) {
        (true, true) => Some("left right"),
        (true, false) => Some("left"),
        (false, true) => Some("right"),
        (false, false) => None,
    };
    let shown = element.get_attribute("data-more");
    if shown.as_deref() == more {
        return;
    }
    let _ = match more {
        Some(sides) => element.set_attribute("data-more", sides),
        None => element.remove_attribute("data-more"),
    };
}
