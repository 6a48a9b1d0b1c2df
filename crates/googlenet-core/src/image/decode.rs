//! PNG or JPEG bytes to one 8-bit gray plane, within fixed limits.

use std::io::Cursor;

use ::image::error::ImageError as Decoder;
use ::image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Luma};

use super::ImageError;

/// The widest and tallest image decoded (the options table declares it).
pub const MAX_SIDE: u32 = crate::options::MAX_IMAGE_SIDE as u32;
/// The most the decoder may allocate for one image (an 8192×8192 RGBA image
/// fits). The decoder checks the size the header claims against it before
/// it allocates, so a small file cannot make it reserve gigabytes.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// Decodes PNG or JPEG bytes to gray (Rec. 709 luma), with transparent
/// pixels composited over white: transparency reads as blank paper.
pub(super) fn decode_gray(bytes: &[u8]) -> Result<GrayImage, ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| ImageError::Damaged(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg) => {}
        Some(other) => return Err(ImageError::UnsupportedFormat(format!("{other:?}").to_uppercase())),
        None => return Err(ImageError::UnknownFormat),
    }
    reader.limits(super::formats::limits());
    let decoded = reader.decode().map_err(|e| match e {
        Decoder::Limits(_) => ImageError::TooLarge,
        other => ImageError::Damaged(other.to_string()),
    })?;
    Ok(to_gray_over_white(decoded))
}

fn to_gray_over_white(image: DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.into_luma8();
    }
    let with_alpha = image.into_luma_alpha8();
    GrayImage::from_fn(with_alpha.width(), with_alpha.height(), |x, y| {
        let [gray, alpha] = with_alpha.get_pixel(x, y).0.map(u32::from);
        // gray·a + white·(1 − a), rounded, in 8-bit fixed point.
        Luma([((gray * alpha + 255 * (255 - alpha) + 127) / 255) as u8])
    })
}
