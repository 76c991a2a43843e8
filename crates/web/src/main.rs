//! Entry point of the page: mounts [`brownout_web::App`] on the body.
fn main() {
    brownout_web::install_panic_banner();
    // The page has started: the message that says what to do if it cannot
    // goes.
    if let Some(loading) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("loading"))
    {
        loading.remove();
    }
    yew::Renderer::<brownout_web::App>::new().render();
}
