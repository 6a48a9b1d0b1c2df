//! A decoded image as a model's input: grey or RGB, resized to a size,
//! channels planar.

use ::image::imageops::{resize, FilterType};
use ::image::{DynamicImage, ImageBuffer, Pixel};

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
pub fn convert_into(image: DynamicImage, channels: usize, (height, width): (usize, usize), out: &mut [u8]) {
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
