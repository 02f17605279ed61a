//! A small page layout over krilla: A4 pages, a font that carries every Vietnamese letter (DejaVu
//! Sans, shipped in `assets/fonts` with its licence), text that wraps at the margin, rules, lines to
//! fill by hand, and images (QR codes). Lines are laid out first and drawn when the document ends.

use std::sync::{Arc, LazyLock};

use dvc_domain::text::nfc;
use krilla::geom::{PathBuilder, Point, Size};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points, and the margins.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.0;

/// One of the two faces, with what it takes to measure text in it.
struct Face {
    font: Font,
    bytes: &'static [u8],
    units_per_em: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Face> {
        let parsed = ttf_parser::Face::parse(bytes, 0).ok()?;
        Some(Face { units_per_em: f32::from(parsed.units_per_em()), font: Font::new(bytes.into(), 0)?, bytes })
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(face) = ttf_parser::Face::parse(self.bytes, 0) else { return 0.0 };
        let units: u32 = text
            .chars()
            .map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map_or(0, u32::from))
            .sum();
        units as f32 * size / self.units_per_em
    }
}

static FACES: LazyLock<Option<(Face, Face)>> = LazyLock::new(|| Some((Face::load(REGULAR)?, Face::load(BOLD)?)));

/// The regular and bold fonts, for pages drawn by hand.
pub(super) fn fonts() -> Result<(Font, Font), PdfError> {
    let (regular, bold) = FACES.as_ref().ok_or_else(|| PdfError("the embedded font does not load".into()))?;
    Ok((regular.font.clone(), bold.font.clone()))
}

/// How a piece of text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub size: f32,
    pub bold: bool,
    pub align: Align,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

impl Style {
    pub const BODY: Style = Style { size: 11.0, bold: false, align: Align::Left };
    pub const SMALL: Style = Style { size: 9.0, bold: false, align: Align::Left };
    pub const LABEL: Style = Style { size: 11.0, bold: true, align: Align::Left };
    pub const TITLE: Style = Style { size: 15.0, bold: true, align: Align::Center };
    pub const CENTER: Style = Style { size: 11.0, bold: false, align: Align::Center };
    pub const CENTER_BOLD: Style = Style { size: 11.0, bold: true, align: Align::Center };
}

enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, text: String },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, dotted: bool },
    Image { x: f32, y: f32, side: f32, png: Arc<Vec<u8>> },
}

/// A document being laid out, top to bottom.
pub struct Layout {
    pages: Vec<Vec<Op>>,
    /// Where the next line goes on the current page (from the top).
    y: f32,
}

/// A document that could not be made (its font is missing or broken, or the PDF writer failed).
#[derive(Debug)]
pub struct PdfError(pub String);

impl Default for Layout {
    fn default() -> Self {
        Self::new()
    }
}

impl Layout {
    pub fn new() -> Self {
        Layout { pages: vec![Vec::new()], y: MARGIN }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Room for `height` more points on this page, or a new page.
    fn room(&mut self, height: f32) {
        if self.y + height > HEIGHT - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    /// Vertical space.
    pub fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// Text wrapped between the margins.
    pub fn text(&mut self, text: &str, style: Style) {
        let text = nfc(text);
        let Some((regular, bold)) = FACES.as_ref() else { return };
        let face = if style.bold { bold } else { regular };
        let line_height = style.size * 1.45;
        for paragraph in text.split('\n') {
            for line in wrap(paragraph, WIDTH - 2.0 * MARGIN, |s| face.width(s, style.size)) {
                self.room(line_height);
                let width = face.width(&line, style.size);
                let x = match style.align {
                    Align::Left => MARGIN,
                    Align::Center => (WIDTH - width) / 2.0,
                    Align::Right => WIDTH - MARGIN - width,
                };
                let y = self.y + style.size;
                self.ops().push(Op::Text { x, y, size: style.size, bold: style.bold, text: line });
                self.y += line_height;
            }
        }
    }

    /// A label followed by its value on the same line (wrapped when long).
    pub fn field(&mut self, label: &str, value: &str) {
        let label = label.trim_end_matches(':');
        self.text(&format!("{label}: {value}"), Style::BODY);
    }

    /// A label followed by a dotted line to fill by hand.
    pub fn blank(&mut self, label: &str) {
        let Some((regular, _)) = FACES.as_ref() else { return };
        let label = nfc(label);
        let line_height = Style::BODY.size * 2.0;
        self.room(line_height);
        let baseline = self.y + Style::BODY.size;
        let width = regular.width(&label, Style::BODY.size);
        self.ops().push(Op::Text { x: MARGIN, y: baseline, size: Style::BODY.size, bold: false, text: label.clone() });
        let start = (MARGIN + width + 6.0).min(WIDTH - MARGIN - 40.0);
        self.ops().push(Op::Line {
            x1: start,
            y1: baseline + 2.0,
            x2: WIDTH - MARGIN,
            y2: baseline + 2.0,
            dotted: true,
        });
        self.y += line_height;
    }

    /// A rule across the page.
    pub fn rule(&mut self) {
        self.room(10.0);
        let y = self.y + 4.0;
        self.ops().push(Op::Line { x1: MARGIN, y1: y, x2: WIDTH - MARGIN, y2: y, dotted: false });
        self.y += 10.0;
    }

    /// A PNG image (a QR code) of `side` points at the right margin, beside what follows.
    pub fn image_right(&mut self, png: Vec<u8>, side: f32) {
        self.room(side);
        let (x, y) = (WIDTH - MARGIN - side, self.y);
        self.ops().push(Op::Image { x, y, side, png: Arc::new(png) });
    }

    /// The PDF.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let (regular, bold) = FACES.as_ref().ok_or_else(|| PdfError("the embedded font does not load".into()))?;
        let mut document = Document::new();
        let settings = || PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| PdfError("page size".into()));
        for ops in self.pages {
            let mut page = document.start_page_with(settings()?);
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, size, bold: b, text } => {
                        surface.set_fill(Some(Fill::default()));
                        let face = if b { bold } else { regular };
                        surface.draw_text(
                            Point::from_xy(x, y),
                            face.font.clone(),
                            size,
                            &text,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Op::Line { x1, y1, x2, y2, dotted } => {
                        let mut path = PathBuilder::new();
                        path.move_to(x1, y1);
                        path.line_to(x2, y2);
                        let Some(path) = path.finish() else { continue };
                        let mut stroke = Stroke { width: if dotted { 0.8 } else { 0.6 }, ..Stroke::default() };
                        if dotted {
                            stroke.dash = Some(krilla::paint::StrokeDash { array: vec![1.0, 2.5], offset: 0.0 });
                        }
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                    Op::Image { x, y, side, png } => {
                        let image = Image::from_png(png.into(), false).map_err(PdfError)?;
                        let size = Size::from_wh(side, side).ok_or_else(|| PdfError("image size".into()))?;
                        surface.push_transform(&krilla::geom::Transform::from_translate(x, y));
                        surface.draw_image(image, size);
                        surface.pop();
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| PdfError(format!("{e:?}")))
    }
}

/// Breaks a paragraph into lines no wider than `max` (a word longer than a line is cut).
fn wrap(paragraph: &str, max: f32, width: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in paragraph.split(' ') {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if width(&candidate) <= max || line.is_empty() && width(word) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than the line on its own is cut where it fills it.
        let mut rest = word.to_string();
        while width(&rest) > max {
            let mut cut = rest.len();
            while cut > 0 && (!rest.is_char_boundary(cut) || width(&rest[..cut]) > max) {
                cut -= 1;
            }
            if cut == 0 {
                break;
            }
            lines.push(rest[..cut].to_string());
            rest = rest[cut..].to_string();
        }
        line = rest;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_at_the_width_and_long_words_are_cut() {
        let width = |s: &str| s.chars().count() as f32;
        assert_eq!(wrap("một hai ba bốn", 7.0, width), ["một hai", "ba bốn"]);
        assert_eq!(wrap("abcdefghij", 4.0, width), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4.0, width), [""]);
    }

    #[test]
    fn a_document_is_a_pdf_with_its_font_embedded() {
        let mut layout = Layout::new();
        layout.text("GIẤY TIẾP NHẬN HỒ SƠ", Style::TITLE);
        layout.field("Họ và tên", "Nguyễn Thị Ánh Tuyết");
        layout.blank("Nơi sinh");
        for _ in 0..80 {
            layout.text("Dòng chữ dài để sang trang mới", Style::BODY);
        }
        let pdf = layout.finish().expect("a pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("DejaVu"), "the font goes with the document");
        assert!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 2
                || text.contains("/Count 2")
        );
    }
}
