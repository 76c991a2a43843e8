//! Entry point of the page: mounts [`brownout_web::App`] on the body.
fn main() {
    brownout_web::install_panic_banner();
    yew::Renderer::<brownout_web::App>::new().render();
}
