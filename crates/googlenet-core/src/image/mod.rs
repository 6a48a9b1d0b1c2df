//! Digits from image files: a PNG or JPEG decoded and fitted into a 28×28
//! MNIST-style image, so a model trained on MNIST can classify it.
//!
//! The steps follow how MNIST itself was made (LeCun et al.): the digit is
//! scaled, keeping its aspect ratio, so that its larger side is 20 pixels,
//! then placed in a 28×28 black field with its centre of mass at the centre.
//! Before that, the image is brought to MNIST's look:
//!
//! 1. [`decode`]: PNG or JPEG to 8-bit gray, any transparency composited
//!    over white (a black digit on a transparent background is dark on light).
//! 2. [`mnist_fit`]: polarity from the outermost ring of pixels: when most of
//!    it is brighter than mid-gray the background is light, and the image is
//!    inverted so the digit is light on dark as in MNIST. The background level
//!    becomes black. An image whose ink cannot be a digit (blank, a speck,
//!    scattered specks, faint shading: see [`NoDigit`]) is reported as
//!    holding none. Otherwise the ink is cropped to its bounding box, scaled
//!    (area averaging, [`resample`]) and centred by mass.
//!
//! For models of other images than digits, [`resized_image_bytes`] fits any
//! image to the model's input plainly: grey or RGB as the model takes, and
//! resized to its height and width (bilinear, aspect not kept), as the
//! images of a folder are when it is read (`data::folder`).
//!
//! Hostile input fails with an error, never a panic, and decoding is capped
//! (see [`MAX_SIDE`], [`MAX_DECODED_BYTES`], [`MAX_FILE_BYTES`]) so a header
//! that claims a huge size fails before anything that size is allocated.

mod convert;
mod decode;
pub(crate) mod formats;
mod mnist_fit;
mod resample;

use std::io::Cursor;
use std::path::Path;

use crate::data::ImageShape;
use crate::{Error, Result};

pub use convert::convert_into;
pub use decode::{MAX_DECODED_BYTES, MAX_SIDE};
pub use mnist_fit::{NoDigit, DIGIT_BOX, SIDE};

/// The largest image file [`read_digit_image`] reads.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A digit ready for a model trained on MNIST.
#[derive(Debug, Clone, PartialEq)]
pub struct Digit {
    /// 28×28 values in [0, 1], row-major, MNIST's polarity (ink bright,
    /// background 0); all 0 when no digit was found.
    pub pixels: Vec<f32>,
    /// Whether the image was dark on light and so was inverted.
    pub inverted: bool,
    /// Size of the decoded image, before fitting.
    pub source_width: u32,
    pub source_height: u32,
    /// Why the image holds no digit; `None` when it holds one.
    pub no_digit: Option<NoDigit>,
}

/// Why image bytes could not be turned into a digit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not a PNG or JPEG image")]
    UnknownFormat,
    #[error("{0} images are not supported (only PNG and JPEG)")]
    UnsupportedFormat(String),
    #[error("image is too large: at most {MAX_SIDE}×{MAX_SIDE} pixels and {} MiB decoded", MAX_DECODED_BYTES >> 20)]
    TooLarge,
    #[error("damaged image: {0}")]
    Damaged(String),
}

/// Decodes a PNG or JPEG and fits it into a 28×28 MNIST-style digit. An
/// image without a digit (a blank page, a speck) is not an error: it says
/// so in [`Digit::no_digit`], and the caller decides.
pub fn digit_from_image_bytes(bytes: &[u8]) -> Result<Digit, ImageError> {
    decode::decode_gray(bytes).map(|gray| mnist_fit::fit(&gray))
}

/// Reads an image file and fits it as [`digit_from_image_bytes`] does.
/// Errors name the file.
pub fn read_digit_image(path: &Path) -> Result<Digit> {
    let bytes = crate::files::read_regular(path, MAX_FILE_BYTES, "an image of a digit")?;
    digit_from_image_bytes(&bytes).map_err(|e| Error::data(path, e.to_string()))
}

/// Decodes a PNG, JPEG, BMP, GIF or WebP image and fits it plainly to
/// `shape`: grey (luma) or RGB, alpha dropped, resized to exactly its
/// height and width (bilinear, aspect not kept); planar bytes, C×H×W.
pub fn resized_image_bytes(bytes: &[u8], shape: ImageShape) -> Result<Vec<u8>, String> {
    let image = formats::reader(Cursor::new(bytes))?.decode().map_err(formats::decoder_reason)?;
    let mut out = vec![0u8; shape.bytes()];
    convert_into(image, shape.channels, (shape.height, shape.width), &mut out);
    Ok(out)
}

/// Reads an image file and fits it as [`resized_image_bytes`] does.
/// Errors name the file.
pub fn read_resized_image(path: &Path, shape: ImageShape) -> Result<Vec<u8>> {
    let bytes = crate::files::read_regular(path, MAX_FILE_BYTES, "an image")?;
    resized_image_bytes(&bytes, shape).map_err(|why| Error::data(path, why))
}
