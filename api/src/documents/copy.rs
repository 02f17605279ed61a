//! The electronic copy of an issued result (bản sao điện tử): the result's own pages (a PDF's
//! pages drawn as they are, an image fitted to an A4 page), each with a band below it that carries
//! the verification code, the address where anyone can check it, and that address as a QR code.

use std::sync::Arc;

use krilla::geom::{Point, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::pdf::{Pdf, PdfDocument};
use krilla::text::{Font, TextDirection};
use krilla::Document;

use super::pdf::{fonts, PdfError};

/// What the band of each page says.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub verification_code: String,
    /// The public verification address (also the QR code's content).
    pub verify_url: String,
    pub agency: String,
    /// The issue date, `dd/mm/yyyy`.
    pub issued_on: String,
    pub dossier_code: String,
}

/// The height of the band, in points.
const BAND: f32 = 78.0;
const A4: (f32, f32) = (595.28, 841.89);

/// The copy of `original` (of type `content_type`): its pages, each with the band; a file whose
/// pages cannot be drawn (even one that makes the PDF reader give up) gets the band under a note.
pub fn render(original: Vec<u8>, content_type: &str, stamp: &Stamp) -> Result<Vec<u8>, PdfError> {
    let drawn = std::panic::catch_unwind(|| pages(original, content_type, stamp));
    match drawn {
        Ok(Ok(pdf)) => Ok(pdf),
        Ok(Err(e)) => {
            tracing::info!(error = %e.0, "a result's pages could not be drawn in its copy");
            pages(Vec::new(), "application/pdf", stamp)
        }
        Err(_) => {
            tracing::warn!("a result's pages made the PDF reader fail in its copy");
            pages(Vec::new(), "application/pdf", stamp)
        }
    }
}

fn pages(original: Vec<u8>, content_type: &str, stamp: &Stamp) -> Result<Vec<u8>, PdfError> {
    let (regular, bold) = fonts()?;
    let qr = crate::payment::qr_png(&stamp.verify_url).map_err(PdfError)?;
    let mut document = Document::new();
    let mut page_of = |size: (f32, f32), draw: &dyn Fn(&mut krilla::surface::Surface)| -> Result<(), PdfError> {
        let settings = PageSettings::from_wh(size.0, size.1 + BAND).ok_or_else(|| PdfError("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        draw(&mut surface);
        band(&mut surface, size, stamp, &regular, &bold, &qr)?;
        surface.finish();
        page.finish();
        Ok(())
    };
    match content_type {
        "application/pdf" => match Pdf::new(original) {
            Ok(pdf) => {
                let sizes: Vec<(f32, f32)> = pdf.pages().iter().map(|p| p.render_dimensions()).collect();
                let embedded = PdfDocument::new(Arc::new(pdf));
                for (i, (w, h)) in sizes.into_iter().enumerate() {
                    let Some(size) = Size::from_wh(w, h) else { continue };
                    page_of((w, h), &|surface| surface.draw_pdf_page(&embedded, size, i))?;
                }
            }
            // A PDF that does not read: the band under a note, on a page of its own.
            Err(_) => page_of((A4.0, 40.0), &|surface| {
                surface.set_fill(Some(Fill::default()));
                let note = "Tệp kết quả không hiển thị được ở đây; tải bản gốc để xem.";
                surface.draw_text(Point::from_xy(18.0, 26.0), regular.clone(), 9.0, note, false, TextDirection::Auto);
            })?,
        },
        _ => {
            let image = match content_type {
                "image/png" => Image::from_png(original.into(), false),
                _ => Image::from_jpeg(original.into(), false),
            }
            .map_err(PdfError)?;
            let (iw, ih) = image.size();
            let margin = 36.0;
            let scale = ((A4.0 - 2.0 * margin) / iw as f32).min((A4.1 - 2.0 * margin) / ih as f32);
            let size =
                Size::from_wh(iw as f32 * scale, ih as f32 * scale).ok_or_else(|| PdfError("image size".into()))?;
            page_of(A4, &|surface| {
                surface.push_transform(&Transform::from_translate(margin, margin));
                surface.draw_image(image.clone(), size);
                surface.pop();
            })?;
        }
    }
    document.finish().map_err(|e| PdfError(format!("{e:?}")))
}

/// The band below a page of `size`: the QR code on the left, three lines of text beside it.
fn band(
    surface: &mut krilla::surface::Surface,
    size: (f32, f32),
    stamp: &Stamp,
    regular: &Font,
    bold: &Font,
    qr: &[u8],
) -> Result<(), PdfError> {
    let top = size.1 + 8.0;
    let side = BAND - 14.0;
    let image = Image::from_png(qr.to_vec().into(), false).map_err(PdfError)?;
    let square = Size::from_wh(side, side).ok_or_else(|| PdfError("QR size".into()))?;
    surface.push_transform(&Transform::from_translate(18.0, top));
    surface.draw_image(image, square);
    surface.pop();
    surface.set_fill(Some(Fill::default()));
    let x = 18.0 + side + 10.0;
    let lines = [
        (bold, 9.5, format!("BẢN SAO ĐIỆN TỬ — Mã xác thực: {}", stamp.verification_code)),
        (regular, 8.0, format!("{} cấp ngày {}, hồ sơ {}", stamp.agency, stamp.issued_on, stamp.dossier_code)),
        (regular, 8.0, format!("Kiểm tra tại: {}", stamp.verify_url)),
    ];
    for (i, (font, points, text)) in lines.into_iter().enumerate() {
        let y = top + 14.0 + i as f32 * 15.0;
        surface.draw_text(Point::from_xy(x, y), (*font).clone(), points, &text, false, TextDirection::Auto);
    }
    Ok(())
}
