//! Digits from PNG and JPEG files, fitted into 28×28 the way MNIST was made.

use std::path::PathBuf;

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
