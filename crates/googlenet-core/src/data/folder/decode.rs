//! One image file decoded into its place in the output: grey or RGB, resized
//! to the output's size, channels planar.

use std::io::Cursor;
use std::path::Path;

use super::MAX_FILE_BYTES;
use crate::files::read_regular;
use crate::image::convert_into;
use crate::image::formats::{decoder_reason, reader};

/// Decodes the image file at `path` into `out`, as [`convert_into`] says.
/// The format comes from the file's bytes; decoding is capped as the
/// header pass's is. The error is the reason the file is skipped.
pub(super) fn decode_into(path: &Path, channels: usize, size: (usize, usize), out: &mut [u8]) -> Result<(), String> {
    let bytes = read_regular(path, MAX_FILE_BYTES, "an image").map_err(super::reason)?;
    let image = reader(Cursor::new(bytes.as_slice()))?.decode().map_err(decoder_reason)?;
    drop(bytes);
    convert_into(image, channels, size, out);
    Ok(())
}
