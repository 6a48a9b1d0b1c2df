//! Which image files are read, and within which limits: shared by the
//! digits of `predict`, images fitted to a model, and folders of images.

use std::io::{BufRead, Seek};

use ::image::error::ImageError as Decoder;
use ::image::{ImageFormat, ImageReader, Limits};

use super::{MAX_DECODED_BYTES, MAX_SIDE};
use crate::files::size_in_words;

/// The decoding limits, for one image.
pub(crate) fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// An image reader of `source` with its format guessed from its first
/// bytes; formats other than those read are refused. The reason is the
/// message of a skipped file.
pub(crate) fn reader<R: BufRead + Seek>(source: R) -> Result<ImageReader<R>, String> {
    let mut reader = ImageReader::new(source).with_guessed_format().map_err(|e| format!("cannot read the file: {e}"))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Bmp | ImageFormat::Gif | ImageFormat::WebP) => {}
        Some(other) => {
            let name = other.extensions_str().first().copied().unwrap_or("unknown").to_uppercase();
            return Err(format!("a {name} image; only PNG, JPEG, BMP, GIF and WebP images are read"));
        }
        None => return Err("not an image: its bytes are not PNG, JPEG, BMP, GIF or WebP".to_string()),
    }
    reader.limits(limits());
    Ok(reader)
}

/// The reason a decoder gave up, in a skipped file's words.
pub(crate) fn decoder_reason(e: Decoder) -> String {
    match e {
        Decoder::Limits(_) => too_large(),
        other => format!("damaged image: {other}"),
    }
}

pub(crate) fn too_large() -> String {
    format!("image too large: at most {MAX_SIDE}×{MAX_SIDE} pixels and {} decoded", size_in_words(MAX_DECODED_BYTES))
}
