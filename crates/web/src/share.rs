//! Taking the view out of the page: links and embed code to the
//! clipboard, and the diagram as an SVG or PNG file or a short WebM clip.
//!
//! Everything here is browser glue around the page's own pieces (the
//! address in `address.rs`, the drawing in `diagram.rs`). When the browser
//! refuses the clipboard (an insecure page, a denied permission, a
//! headless browser), the text stays in a visible read-only field, selected,
//! for the reader to copy by hand.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlCanvasElement, MediaRecorder};
use yew::html::Scope;

use crate::surface::xml_escape;
use crate::{App, Msg};

/// The size of the frame the embed code asks for, in CSS pixels: 16:9, as
/// slides are.
pub const EMBED_WIDTH: u32 = 960;
pub const EMBED_HEIGHT: u32 = 540;

/// How long a recorded clip runs, in real milliseconds.
pub const CLIP_MS: u32 = 5_000;

/// The page's own address with another query string, keeping its path, so
/// that a link works wherever the page is hosted.
pub fn page_url(query: &str) -> Option<String> {
    let href = web_sys::window()?.location().href().ok()?;
    let url = web_sys::Url::new(&href).ok()?;
    url.set_search(query);
    url.set_hash("");
    Some(url.href())
}

/// Replaces the address in the location bar (no new history entry).
pub fn replace_address(query: &str) {
    let Some(url) = page_url(query) else { return };
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else { return };
    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
}

/// An `<iframe>` of the page at `url`, at the slide size, titled for
/// assistive technology; both attributes escaped.
pub fn embed_code(url: &str, title: &str) -> String {
    format!(
        "<iframe src=\"{}\" width=\"{EMBED_WIDTH}\" height=\"{EMBED_HEIGHT}\" title=\"{}\" style=\"border:0\" loading=\"lazy\" allowfullscreen></iframe>",
        xml_escape(url),
        xml_escape(title)
    )
}

/// Writes `text` to the clipboard, then tells the page whether it could.
pub fn copy(text: String, link: Scope<App>) {
    let clipboard = web_sys::window().map(|w| w.navigator()).and_then(|n| {
        // `navigator.clipboard` is missing outside secure contexts: look
        // before calling, since calling a method of `undefined` throws.
        let has = js_sys::Reflect::get(&n, &"clipboard".into()).is_ok_and(|c| !c.is_undefined());
        has.then(|| n.clipboard())
    });
    let Some(clipboard) = clipboard else {
        link.send_message(Msg::Copied(false));
        return;
    };
    let promise = clipboard.write_text(&text);
    wasm_bindgen_futures::spawn_local(async move {
        let done = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        link.send_message(Msg::Copied(done));
    });
}

/// An export as the page keeps it: what, where (an object URL that lives
/// until the next export), how big.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    /// `svg`, `png` or `webm`.
    pub kind: &'static str,
    pub url: String,
    pub bytes: f64,
    /// The picture's size in pixels (of the file, not of the page).
    pub width: u32,
    pub height: u32,
}

/// Hands a file to the browser's downloads.
pub fn download(url: &str, filename: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(a) = doc.create_element("a").ok().and_then(|a| a.dyn_into::<HtmlAnchorElement>().ok())
    else {
        return;
    };
    a.set_href(url);
    a.set_download(filename);
    a.click();
}

/// A text as a blob of a MIME type.
pub fn text_blob(text: &str, mime: &str) -> Option<Blob> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_str_sequence_and_options(&parts, &options).ok()
}

/// A file name for an export of an experiment at a simulated time.
pub fn file_name(preset: &str, seconds: f64, extension: &str) -> String {
    format!("brownout-{preset}-t{seconds:.0}s.{extension}")
}

/// Encodes a drawn canvas as PNG, downloads it, and tells the page.
pub fn save_png(canvas: &HtmlCanvasElement, filename: String, link: Scope<App>) {
    let (width, height) = (canvas.width(), canvas.height());
    let done = Closure::once_into_js(move |blob: Option<Blob>| {
        let Some(blob) = blob else {
            link.send_message(Msg::ExportFailed("the browser could not encode the PNG".into()));
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
        download(&url, &filename);
        let export = Export { kind: "png", url, bytes: blob.size(), width, height };
        link.send_message(Msg::Exported(export));
    });
    if canvas.to_blob(done.unchecked_ref()).is_err() {
        // A canvas too large for the browser, for instance.
        web_sys::console::warn_1(&"PNG export: toBlob refused".into());
    }
}

/// A clip being recorded from the diagram's canvas. Dropping it drops the
/// handler that collects the recorder's data.
///
/// While it lives, `captioned` is set: the painter then writes its note on
/// a crowded diagram into the canvas itself, since a clip records the dots
/// as drawn (a sample, past the cap) and the note under the canvas would
/// not travel with it.
pub struct Recording {
    recorder: MediaRecorder,
    _collect: Closure<dyn FnMut(web_sys::BlobEvent)>,
    captioned: Rc<Cell<bool>>,
}

impl Recording {
    /// Starts recording `canvas` as WebM; after [`CLIP_MS`] the clip is
    /// downloaded and the page told. `Err` says why the browser cannot.
    pub fn start(
        canvas: &HtmlCanvasElement,
        filename: String,
        link: Scope<App>,
        captioned: Rc<Cell<bool>>,
    ) -> Result<Recording, String> {
        let mime = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"]
            .into_iter()
            .find(|m| MediaRecorder::is_type_supported(m))
            .ok_or("this browser cannot record WebM video")?;
        let stream = canvas
            .capture_stream_with_frame_request_rate(30.0)
            .map_err(|_| "this browser cannot capture the canvas")?;
        let options = web_sys::MediaRecorderOptions::new();
        options.set_mime_type(mime);
        let recorder =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
                .map_err(|_| "this browser refused to record the canvas")?;
        let parts = Rc::new(RefCell::new(js_sys::Array::new()));
        let collect = {
            let parts = parts.clone();
            Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |e: web_sys::BlobEvent| {
                if let Some(data) = e.data() {
                    parts.borrow().push(&data);
                }
            })
        };
        recorder.set_ondataavailable(Some(collect.as_ref().unchecked_ref()));
        let (width, height) = (canvas.width(), canvas.height());
        let stopped = Closure::once_into_js(move || {
            let options = BlobPropertyBag::new();
            options.set_type("video/webm");
            let blob = Blob::new_with_blob_sequence_and_options(&parts.borrow(), &options);
            match blob
                .ok()
                .and_then(|b| Some((web_sys::Url::create_object_url_with_blob(&b).ok()?, b)))
            {
                Some((url, blob)) => {
                    download(&url, &filename);
                    let export = Export { kind: "webm", url, bytes: blob.size(), width, height };
                    link.send_message(Msg::Exported(export));
                }
                None => link.send_message(Msg::ExportFailed("the clip could not be saved".into())),
            }
        });
        recorder.set_onstop(Some(stopped.unchecked_ref()));
        recorder.start_with_time_slice(1_000).map_err(|_| "the recording did not start")?;
        let stop = recorder.clone();
        gloo_timers::callback::Timeout::new(CLIP_MS, move || {
            let _ = stop.stop();
        })
        .forget();
        captioned.set(true);
        Ok(Recording { recorder, _collect: collect, captioned })
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if self.recorder.state() == web_sys::RecordingState::Recording {
            let _ = self.recorder.stop();
        }
        self.recorder.set_ondataavailable(None);
        self.captioned.set(false);
    }
}
