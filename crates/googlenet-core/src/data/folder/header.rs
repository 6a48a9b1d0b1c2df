//! One image file's header: its format (from its bytes), size and colour
//! type, without decoding a pixel.

use std::io::BufReader;
use std::path::Path;

use ::image::ImageDecoder;

use super::{MAX_DECODED_BYTES, MAX_FILE_BYTES, MAX_SIDE};
use crate::files::{open_regular, size_in_words};
use crate::image::formats::{decoder_reason, reader, too_large};

/// What the header pass learns of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// (height, width).
    pub size: (usize, usize),
    pub is_colour: bool,
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
