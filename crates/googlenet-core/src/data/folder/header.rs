//! One image file's header: its format (from its bytes), size and colour
//! type, without decoding a pixel.

use std::io::{BufRead, BufReader, Seek};
use std::path::Path;

use ::image::error::ImageError as Decoder;
use ::image::{ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{MAX_DECODED_BYTES, MAX_FILE_BYTES, MAX_SIDE};
use crate::files::{open_regular, size_in_words};

/// What the header pass learns of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// (height, width).
    pub size: (usize, usize),
    pub is_colour: bool,
}

/// The decoding limits of [`crate::image`], for one image.
pub(super) fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// An image reader of `source` with its format guessed from its first
/// bytes; formats other than those read are refused. The reason is the
/// message of a skipped file.
pub(super) fn reader<R: BufRead + Seek>(source: R) -> Result<ImageReader<R>, String> {
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
pub(super) fn decoder_reason(e: Decoder) -> String {
    match e {
        Decoder::Limits(_) => too_large(),
        other => format!("damaged image: {other}"),
    }
}

fn too_large() -> String {
    format!("image too large: at most {MAX_SIDE}×{MAX_SIDE} pixels and {} decoded", size_in_words(MAX_DECODED_BYTES))
}

/// Reads the header of the image file at `path`. Named pipes, devices and
/// links that lead nowhere are refused unopened (see [`crate::files`]),
/// empty files and files over [`MAX_FILE_BYTES`] unread.
pub(super) fn read_header(path: &Path) -> Result<Header, String> {
    let (file, len) = open_regular(path).map_err(super::reason)?;
    if len == 0 {
        return Err("empty file (0 bytes)".to_string());
    }
    if len > MAX_FILE_BYTES {
        return Err(format!("larger than {}, too large for an image", size_in_words(MAX_FILE_BYTES)));
    }
    let decoder = reader(BufReader::new(file))?.into_decoder().map_err(decoder_reason)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(format!("damaged image: its header says {width}×{height} pixels"));
    }
    let colour = decoder.color_type();
    let decoded = u64::from(width) * u64::from(height) * u64::from(colour.bytes_per_pixel());
    if width > MAX_SIDE || height > MAX_SIDE || decoded > MAX_DECODED_BYTES {
        return Err(too_large());
    }
    Ok(Header { size: (height as usize, width as usize), is_colour: colour.has_color() })
}
