//! Where the diagram is drawn: a canvas for the page and the PNG export, or
//! an SVG document for the SVG export.
//!
//! The diagram's painter speaks only this small vocabulary (lines,
//! triangles, boxes, dots, text), so that both back ends draw the very
//! same picture from the same layout. The canvas one batches dots into a
//! single path per call, as the live page needs; the SVG one writes one
//! element per mark, with every text escaped.

use std::fmt::Write;

use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d;

pub type Point = (f64, f64);

/// A box, in the surface's units (CSS pixels of the diagram's layout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// The diagram's one typeface, at a weight and size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Font {
    pub weight: u16,
    pub px: f64,
}

impl Font {
    pub const fn new(weight: u16, px: f64) -> Font {
        Font { weight, px }
    }

    /// The CSS `font` shorthand for this font.
    pub fn css(self) -> String {
        format!("{} {}px system-ui, sans-serif", self.weight, self.px)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    Top,
    Middle,
}

/// How a text is set: font, colour, and where it hangs from its point.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle<'a> {
    pub font: Font,
    pub fill: &'a str,
    pub align: Align,
    pub baseline: Baseline,
}

/// What a painter can draw.
pub trait Surface {
    /// Empties the picture; `fill` paints a background over it.
    fn clear(&mut self, width: f64, height: f64, fill: Option<&str>);
    fn line(&mut self, from: Point, to: Point, colour: &str, width: f64);
    fn triangle(&mut self, points: [Point; 3], fill: &str);
    fn rect(&mut self, r: Rect, fill: &str);
    /// A box with rounded corners, filled, outlined, or both.
    fn round_rect(&mut self, r: Rect, radius: f64, fill: Option<&str>, stroke: Option<(&str, f64)>);
    /// Dots of one colour.
    fn circles(&mut self, centres: &[Point], radius: f64, fill: &str);
    fn text(&mut self, text: &str, at: Point, style: TextStyle);
    fn text_width(&mut self, text: &str, font: Font) -> f64;
    /// The opacity of what is drawn next, from 0 to 1.
    fn set_alpha(&mut self, alpha: f64);
}

/// A canvas's 2D context, already scaled so that one unit is one CSS pixel
/// of the layout.
pub struct CanvasSurface<'a>(pub &'a CanvasRenderingContext2d);

fn align_name(align: Align) -> &'static str {
    match align {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
    }
}

impl Surface for CanvasSurface<'_> {
    fn clear(&mut self, width: f64, height: f64, fill: Option<&str>) {
        self.0.clear_rect(0.0, 0.0, width, height);
        if let Some(fill) = fill {
            self.0.set_fill_style_str(fill);
            self.0.fill_rect(0.0, 0.0, width, height);
        }
    }

    fn line(&mut self, from: Point, to: Point, colour: &str, width: f64) {
        let ctx = self.0;
        ctx.set_stroke_style_str(colour);
        ctx.set_line_width(width);
        ctx.begin_path();
        ctx.move_to(from.0, from.1);
        ctx.line_to(to.0, to.1);
        ctx.stroke();
    }

    fn triangle(&mut self, [a, b, c]: [Point; 3], fill: &str) {
        let ctx = self.0;
        ctx.set_fill_style_str(fill);
        ctx.begin_path();
        ctx.move_to(a.0, a.1);
        ctx.line_to(b.0, b.1);
        ctx.line_to(c.0, c.1);
        ctx.close_path();
        ctx.fill();
    }

    fn rect(&mut self, r: Rect, fill: &str) {
        self.0.set_fill_style_str(fill);
        self.0.fill_rect(r.x, r.y, r.w, r.h);
    }

    fn round_rect(
        &mut self,
        r: Rect,
        radius: f64,
        fill: Option<&str>,
        stroke: Option<(&str, f64)>,
    ) {
        let ctx = self.0;
        ctx.begin_path();
        let _ = ctx.round_rect_with_f64(r.x, r.y, r.w, r.h, radius);
        if let Some(fill) = fill {
            ctx.set_fill_style_str(fill);
            ctx.fill();
        }
        if let Some((colour, width)) = stroke {
            ctx.set_stroke_style_str(colour);
            ctx.set_line_width(width);
            ctx.stroke();
        }
    }

    fn circles(&mut self, centres: &[Point], radius: f64, fill: &str) {
        if centres.is_empty() {
            return;
        }
        let ctx = self.0;
        ctx.set_fill_style_str(fill);
        ctx.begin_path();
        for &(x, y) in centres {
            ctx.move_to(x + radius, y);
            let _ = ctx.arc(x, y, radius, 0.0, std::f64::consts::TAU);
        }
        ctx.fill();
    }

    fn text(&mut self, text: &str, at: Point, style: TextStyle) {
        let ctx = self.0;
        ctx.set_font(&style.font.css());
        ctx.set_fill_style_str(style.fill);
        ctx.set_text_align(align_name(style.align));
        ctx.set_text_baseline(match style.baseline {
            Baseline::Top => "top",
            Baseline::Middle => "middle",
        });
        let _ = ctx.fill_text(text, at.0, at.1);
    }

    fn text_width(&mut self, text: &str, font: Font) -> f64 {
        self.0.set_font(&font.css());
        self.0.measure_text(text).map(|m| m.width()).unwrap_or(text.len() as f64 * font.px * 0.6)
    }

    fn set_alpha(&mut self, alpha: f64) {
        self.0.set_global_alpha(alpha);
    }
}

/// Escapes text for XML: element content and quoted attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// An SVG document being written. Texts are measured on a canvas context
/// with the same font, so that boxes sized to their text come out as on
/// the page.
pub struct SvgSurface {
    out: String,
    measure: Option<CanvasRenderingContext2d>,
    alpha: f64,
}

impl SvgSurface {
    /// Starts a document of `width`×`height` CSS pixels showing the
    /// layout's `view` (its width and height), titled for assistive
    /// technology.
    pub fn new(width: f64, height: f64, view: (f64, f64), title: &str) -> SvgSurface {
        let measure = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("canvas").ok())
            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
            .and_then(|c| c.get_context("2d").ok().flatten())
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"system-ui, sans-serif\" role=\"img\">\n<title>{}</title>\n",
            num(width),
            num(height),
            num(view.0),
            num(view.1),
            xml_escape(title)
        );
        SvgSurface { out, measure, alpha: 1.0 }
    }

    /// Places a document this module made inside this one, with its top
    /// left corner at (0, `y`): nested, it keeps its own size and view.
    pub fn place(&mut self, document: &str, y: f64) {
        let at = format!("<svg x=\"0\" y=\"{}\" ", num(y));
        self.out.push_str(&document.replacen("<svg ", &at, 1));
    }

    /// Ends the document and returns its text.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    fn opacity(&self) -> String {
        if self.alpha < 1.0 {
            format!(" opacity=\"{}\"", num(self.alpha))
        } else {
            String::new()
        }
    }
}

/// A coordinate as SVG wants it: two decimals at most, no trailing zeros.
fn num(x: f64) -> String {
    let rounded = (x * 100.0).round() / 100.0;
    if rounded == 0.0 {
        "0".into()
    } else {
        format!("{rounded}")
    }
}

impl Surface for SvgSurface {
    fn clear(&mut self, width: f64, height: f64, fill: Option<&str>) {
        if let Some(fill) = fill {
            let _ = writeln!(
                self.out,
                "<rect class=\"background\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                num(width),
                num(height),
                xml_escape(fill)
            );
        }
    }

    fn line(&mut self, from: Point, to: Point, colour: &str, width: f64) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            xml_escape(colour),
            num(width),
            self.opacity()
        );
    }

    fn triangle(&mut self, [a, b, c]: [Point; 3], fill: &str) {
        let _ = writeln!(
            self.out,
            "<polygon points=\"{},{} {},{} {},{}\" fill=\"{}\"{}/>",
            num(a.0),
            num(a.1),
            num(b.0),
            num(b.1),
            num(c.0),
            num(c.1),
            xml_escape(fill),
            self.opacity()
        );
    }

    fn rect(&mut self, r: Rect, fill: &str) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}/>",
            num(r.x),
            num(r.y),
            num(r.w.max(0.0)),
            num(r.h.max(0.0)),
            xml_escape(fill),
            self.opacity()
        );
    }

    fn round_rect(
        &mut self,
        r: Rect,
        radius: f64,
        fill: Option<&str>,
        stroke: Option<(&str, f64)>,
    ) {
        let fill = fill.map_or("none".to_string(), xml_escape);
        let stroke = stroke.map_or(String::new(), |(colour, width)| {
            format!(" stroke=\"{}\" stroke-width=\"{}\"", xml_escape(colour), num(width))
        });
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\"{stroke}{}/>",
            num(r.x),
            num(r.y),
            num(r.w.max(0.0)),
            num(r.h.max(0.0)),
            num(radius),
            self.opacity()
        );
    }

    fn circles(&mut self, centres: &[Point], radius: f64, fill: &str) {
        if centres.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "<g fill=\"{}\"{}>", xml_escape(fill), self.opacity());
        for &(x, y) in centres {
            let _ = writeln!(
                self.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"/>",
                num(x),
                num(y),
                num(radius)
            );
        }
        self.out.push_str("</g>\n");
    }

    fn text(&mut self, text: &str, at: Point, style: TextStyle) {
        let anchor = match style.align {
            Align::Left => "start",
            Align::Center => "middle",
            Align::Right => "end",
        };
        let baseline = match style.baseline {
            Baseline::Top => "hanging",
            Baseline::Middle => "central",
        };
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"{}\" fill=\"{}\" text-anchor=\"{anchor}\" dominant-baseline=\"{baseline}\"{}>{}</text>",
            num(at.0),
            num(at.1),
            num(style.font.px),
            style.font.weight,
            xml_escape(style.fill),
            self.opacity(),
            xml_escape(text)
        );
    }

    fn text_width(&mut self, text: &str, font: Font) -> f64 {
        match &self.measure {
            Some(ctx) => CanvasSurface(ctx).text_width(text, font),
            None => text.chars().count() as f64 * font.px * 0.6,
        }
    }

    fn set_alpha(&mut self, alpha: f64) {
        self.alpha = alpha.clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn texts_and_attributes_are_escaped_and_the_document_parses() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        let mut svg = SvgSurface::new(200.0, 100.0, (400.0, 200.0), "<script>alert(1)</script>");
        svg.clear(400.0, 200.0, Some("#ffffff"));
        let style = TextStyle {
            font: Font::new(600, 17.0),
            fill: "#000000",
            align: Align::Center,
            baseline: Baseline::Top,
        };
        svg.text("orders & <payments>", (10.0, 10.0), style);
        svg.circles(&[(1.0, 2.0), (3.0, 4.0)], 4.5, "#0072b2");
        let text = svg.finish();
        assert!(!text.contains("<script>"), "{text}");
        let parser = web_sys::DomParser::new().unwrap();
        let doc = parser.parse_from_string(&text, web_sys::SupportedType::ImageSvgXml).unwrap();
        assert_eq!(doc.get_elements_by_tag_name("parsererror").length(), 0, "{text}");
        let texts = doc.get_elements_by_tag_name("text");
        assert_eq!(texts.item(0).unwrap().text_content().unwrap(), "orders & <payments>");
        assert_eq!(doc.get_elements_by_tag_name("circle").length(), 2);
        let root = doc.document_element().unwrap();
        assert_eq!(root.get_attribute("width").as_deref(), Some("200"));
        assert_eq!(root.get_attribute("viewBox").as_deref(), Some("0 0 400 200"));
    }
}
