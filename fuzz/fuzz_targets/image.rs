//! PNG and JPEG bytes to a 28×28 digit.
#![no_main]

use googlenet_core::image::digit_from_image_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = digit_from_image_bytes(data);
});
