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
    // The view comes from the address: `?preset=…&retries=3&embed=1`.
    let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let props = brownout_web::Props { query: Some(query.into()), owns_page: true };
    yew::Renderer::<brownout_web::App>::with_props(props).render();
}
