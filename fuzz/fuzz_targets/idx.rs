//! IDX files, raw or gzip: the first byte picks the image or the label
//! parser, the rest is the file.
#![no_main]

use std::path::Path;

use googlenet_core::data::idx::{decode_maybe_gzip, parse_images, parse_labels};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, file)) = data.split_first() else { return };
    let path = Path::new("fuzz-idx");
    let Ok(bytes) = decode_maybe_gzip(file.to_vec(), path) else { return };
    if kind & 1 == 0 {
        let _ = parse_images(&bytes, path);
    } else {
        let _ = parse_labels(&bytes, path);
    }
});
