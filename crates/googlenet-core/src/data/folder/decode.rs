//! One image file decoded into its place in the output: grey or RGB, resized
//! to the output's size, channels planar.

use std::io::Cursor;
use std::path::Path;

use ::image::imageops::{resize, FilterType};
use ::image::{DynamicImage, ImageBuffer, Pixel};

use super::header::{decoder_reason, reader};
use super::MAX_FILE_BYTES;
use crate::files::read_regular;

/// `image` at exactly `width`×`height` (bilinear, aspect not kept), or
/// itself when it is that size already.
fn sized<P: Pixel<Subpixel = u8> + 'static>(image: ImageBuffer<P, Vec<u8>>, height: usize, width: usize) -> ImageBuffer<P, Vec<u8>> {
    if image.dimensions() == (width as u32, height as u32) {
        return image;
    }
    resize(&image, width as u32, height as u32, FilterType::Triangle)
}

/// Writes `image` into `out` (`channels`×`height`×`width` bytes): grey
/// (luma, alpha dropped, 16 bits scaled to 8), or RGB (alpha dropped) with
/// each channel a plane of its own.
pub(super) fn convert_into(image: DynamicImage, channels: usize, (height, width): (usize, usize), out: &mut [u8]) {
    let plane = height * width;
    debug_assert_eq!(out.len(), channels * plane);
    if channels == 1 {
        out.copy_from_slice(&sized(image.into_luma8(), height, width));
        return;
    }
    let rgb = sized(image.into_rgb8(), height, width);
    let (red, rest) = out.split_at_mut(plane);
    let (green, blue) = rest.split_at_mut(plane);
    for (((pixel, r), g), b) in rgb.pixels().zip(red).zip(green).zip(blue) {
        [*r, *g, *b] = pixel.0;
    }
}

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
