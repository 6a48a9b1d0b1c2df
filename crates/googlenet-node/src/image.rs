//! Digits from PNG and JPEG files, fitted into 28×28 the way MNIST was made.

use std::path::PathBuf;

use googlenet_core::data::ImageShape;
use googlenet_core::image::Digit;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{caught, guarded};

/// A digit read from an image file, ready for a model trained on MNIST.
#[napi(object)]
pub struct NativeDigitImage {
    /// 28×28 values in [0, 1], row-major, ink bright on black; all 0 when no digit was found.
    pub pixels: Float32Array,
    /// Whether the image was dark on light and was inverted.
    pub inverted: bool,
    /// Size of the image in the file.
    pub width: u32,
    pub height: u32,
    /// Why the image holds no digit (a blank page, a speck, faint shading); absent when it holds one.
    pub no_digit: Option<String>,
}

pub struct ReadDigitTask {
    path: PathBuf,
}

impl Task for ReadDigitTask {
    type Output = Digit;
    type JsValue = NativeDigitImage;

    fn compute(&mut self) -> Result<Digit> {
        guarded(|| googlenet_core::image::read_digit_image(&self.path))
    }

    fn resolve(&mut self, _env: Env, digit: Digit) -> Result<NativeDigitImage> {
        caught(|| Ok(digit_to_js(digit)))
    }
}

/// The digit as JS sees it.
fn digit_to_js(digit: Digit) -> NativeDigitImage {
    NativeDigitImage {
        pixels: Float32Array::new(digit.pixels),
        inverted: digit.inverted,
        width: digit.source_width,
        height: digit.source_height,
        no_digit: digit.no_digit.map(|why| why.to_string()),
    }
}

/// Reads a PNG or JPEG file and fits the digit in it into 28×28, off the
/// event loop. Errors name the file.
#[napi(catch_unwind, ts_return_type = "Promise<NativeDigitImage>")]
pub fn read_digit_image(path: String) -> AsyncTask<ReadDigitTask> {
    AsyncTask::new(ReadDigitTask { path: PathBuf::from(path) })
}

pub struct DecodeDigitTask {
    bytes: Vec<u8>,
}

impl Task for DecodeDigitTask {
    type Output = Digit;
    type JsValue = NativeDigitImage;

    fn compute(&mut self) -> Result<Digit> {
        caught(|| googlenet_core::image::digit_from_image_bytes(&self.bytes).map_err(|e| Error::new(Status::InvalidArg, e.to_string())))
    }

    fn resolve(&mut self, _env: Env, digit: Digit) -> Result<NativeDigitImage> {
        caught(|| Ok(digit_to_js(digit)))
    }
}

/// [`read_digit_image`] on the bytes of a PNG or JPEG (a canvas drawn in a
/// browser tab, an upload), off the event loop.
#[napi(catch_unwind, ts_return_type = "Promise<NativeDigitImage>")]
pub fn decode_digit_image(bytes: Uint8Array) -> AsyncTask<DecodeDigitTask> {
    AsyncTask::new(DecodeDigitTask { bytes: bytes.to_vec() })
}

pub struct ReadResizedTask {
    path: PathBuf,
    shape: ImageShape,
}

impl Task for ReadResizedTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        guarded(|| googlenet_core::image::read_resized_image(&self.path, self.shape))
    }

    fn resolve(&mut self, _env: Env, bytes: Vec<u8>) -> Result<Buffer> {
        caught(|| Ok(bytes.into()))
    }
}

/// Reads a PNG, JPEG, BMP, GIF or WebP file fitted plainly to `shape`
/// (`[channels, height, width]`: grey or RGB, resized, aspect not kept),
/// as planar bytes, off the event loop. Errors name the file.
#[napi(catch_unwind, ts_return_type = "Promise<Buffer>")]
pub fn read_resized_image(path: String, shape: Vec<u32>) -> Result<AsyncTask<ReadResizedTask>> {
    Ok(AsyncTask::new(ReadResizedTask { path: PathBuf::from(path), shape: image_shape(&shape)? }))
}

/// `[channels, height, width]` from JS as an image shape.
pub(crate) fn image_shape(shape: &[u32]) -> Result<ImageShape> {
    match *shape {
        [channels, height, width] => Ok(ImageShape { channels: channels as usize, height: height as usize, width: width as usize }),
        _ => Err(Error::new(Status::InvalidArg, format!("an image shape is [channels, height, width] (got {shape:?})"))),
    }
}
