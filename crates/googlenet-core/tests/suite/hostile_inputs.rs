//! Random and mutated files through every parser of untrusted input (IDX,
//! raw and gzip; checkpoints and model files; PNG and JPEG): each returns
//! `Ok` or an error, none panics. A cheap, deterministic cousin of the
//! libFuzzer targets in `fuzz/` (`bash scripts/fuzz.sh <target>`), which run
//! millions of inputs outside CI; crashes found are kept here as
//! regression cases.

use std::io::{Cursor, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::common::sample_state::sample_state;
use crate::common::{mnist, temp_dir};
use candle_core::{DType, Device, Tensor};
use googlenet_core::data::idx::{decode_maybe_gzip, encode_images, encode_labels, parse_images, parse_labels, IdxImages};
use googlenet_core::data::Split;
use googlenet_core::image::digit_from_image_bytes;
use googlenet_core::model::{build_model, load_model_bytes, save_model, ModelInfo};
use googlenet_core::train::{load_checkpoint_bytes, save_checkpoint, FitConfig};
use image::{DynamicImage, GrayImage, ImageFormat, Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Byte-level mutations as a fuzzer makes them, most of them in the first
/// `focus` bytes of a file, where its header lies.
struct Mutator(ChaCha8Rng);

impl Mutator {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn random(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.0.random_range(0..=max_len);
        (0..len).map(|_| self.0.random()).collect()
    }

    fn position(&mut self, len: usize, focus: usize) -> usize {
        let end = if self.0.random_bool(0.8) { focus.min(len) } else { len };
        self.0.random_range(0..end.max(1))
    }

    fn mutate(&mut self, seed: &[u8], focus: usize) -> Vec<u8> {
        let mut bytes = seed.to_vec();
        for _ in 0..self.0.random_range(1..=4) {
            let at = self.position(bytes.len(), focus);
            match self.0.random_range(0..7) {
                0 if at < bytes.len() => bytes[at] ^= 1 << self.0.random_range(0..8),
                1 if at < bytes.len() => bytes[at] = [0, 1, b'0', b'9', b'"', 0x7f, 0x80, 0xff][self.0.random_range(0..8)],
                2 if at + 4 <= bytes.len() => {
                    let value: u32 = [0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX, self.0.random()][self.0.random_range(0..6)];
                    bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
                }
                3 => {
                    let insert = self.random(16);
                    bytes.splice(at.min(bytes.len())..at.min(bytes.len()), insert);
                }
                4 if at < bytes.len() => {
                    let end = (at + self.0.random_range(1..=64)).min(bytes.len());
                    bytes.drain(at..end);
                }
                5 => bytes.truncate(self.0.random_range(0..=bytes.len())),
                6 if at < bytes.len() => {
                    let end = (at + self.0.random_range(1..=64)).min(bytes.len());
                    let chunk = bytes[at..end].to_vec();
                    bytes.splice(at..at, chunk);
                }
                _ => {}
            }
        }
        bytes
    }
}

/// Runs `parse` on `input`; a panic fails the test with the input saved
/// to a file, to be replayed and kept as a regression case.
fn survives(target: &str, input: &[u8], parse: impl Fn(&[u8])) {
    if catch_unwind(AssertUnwindSafe(|| parse(input))).is_err() {
        let saved = temp_dir(&format!("hostile-{target}")).join("crash");
        std::fs::write(&saved, input).unwrap();
        panic!("{target}: a {}-byte input panicked; saved to {}", input.len(), saved.display());
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn digits(n: usize) -> Vec<GrayImage> {
    let data = mnist(Split::Test, n);
    (0..n).map(|i| GrayImage::from_raw(28, 28, data.image(i).to_vec()).unwrap()).collect()
}

fn parse_idx(file: &[u8]) {
    let path = Path::new("hostile-idx");
    if let Ok(bytes) = decode_maybe_gzip(file.to_vec(), path) {
        let _ = parse_images(&bytes, path);
        let _ = parse_labels(&bytes, path);
    }
}

#[test]
fn idx_files_raw_and_gzip() {
    let digits = digits(3);
    let pixels = digits.iter().flat_map(|d| d.as_raw().iter().copied()).collect();
    let seeds = [encode_images(&IdxImages { count: 3, channels: 1, rows: 28, cols: 28, pixels }), encode_labels(&[7, 2, 1])];
    let mut m = Mutator::new(1);
    for i in 0..4000 {
        let seed = &seeds[i % 2];
        let input = match i % 4 {
            // Mutating the content before compressing reaches the header checks through gzip.
            0 | 1 => m.mutate(seed, 24),
            2 => gzip(&m.mutate(seed, 24)),
            _ => m.mutate(&gzip(seed), 32),
        };
        survives("idx", &input, parse_idx);
        survives("idx", &m.random(64), parse_idx);
    }
}

#[test]
fn checkpoints_and_model_files() {
    let dir = temp_dir("hostile-checkpoint");
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let info = ModelInfo { model: "lenet5".into(), version: "test".into(), ..ModelInfo::default() };
    save_model(model.as_ref(), &info, &dir.join("model.safetensors")).unwrap();
    let state = sample_state(model.as_ref(), (0..8).collect()).unwrap();
    let config = FitConfig { epochs: 3, batch_size: 4, ..FitConfig::default() };
    let checkpoint = save_checkpoint(&dir, model.as_ref(), &info, &config, &state).unwrap();
    let seeds = [std::fs::read(checkpoint).unwrap(), std::fs::read(dir.join("model.safetensors")).unwrap()];
    assert!(load_checkpoint_bytes(&seeds[0], Path::new("seed"), &Device::Cpu).is_ok());

    // Momentum that does not fit its parameter fails at load, not at resume.
    let mut wrong = state.clone();
    wrong.optimizer[0].1 = Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap();
    let wrong = save_checkpoint(&dir.join("wrong"), model.as_ref(), &info, &config, &wrong).unwrap();
    let err = load_checkpoint_bytes(&std::fs::read(wrong).unwrap(), Path::new("wrong"), &Device::Cpu).err().unwrap().to_string();
    assert!(err.contains("momentum for 'conv1.weight' has shape [3]"), "{err}");

    let load = |bytes: &[u8]| {
        let path = Path::new("hostile.safetensors");
        let _ = load_checkpoint_bytes(bytes, path, &Device::Cpu);
        let _ = load_model_bytes(bytes, path, &Device::Cpu);
    };
    let mut m = Mutator::new(2);
    for i in 0..3000 {
        let seed = &seeds[i % 2];
        let input = match i % 3 {
            0 => m.mutate(seed, header_len(seed)),
            _ => m.mutate_safetensors_header(seed),
        };
        survives("checkpoint", &input, load);
        let mut random = m.random(64);
        if i % 2 == 0 && random.len() >= 8 {
            // A plausible header length, so the JSON parser sees the rest.
            let json_len = random.len() as u64 - 8;
            random[..8].copy_from_slice(&json_len.to_le_bytes());
        }
        survives("checkpoint", &random, load);
    }
}

/// The bytes of a safetensors file's length prefix and JSON header.
fn header_len(file: &[u8]) -> usize {
    8 + u64::from_le_bytes(file[..8].try_into().unwrap()) as usize
}

/// Numbers worth putting in a safetensors header: zero, and sizes at the
/// edges of u32, u64 and f64.
const HEADER_NUMBERS: &[&str] = &["0", "1", "7", "16", "-1", "4294967296", "18446744073709551615", "99999999999999999999", "1e308"];
/// Strings worth putting there: numbers as metadata holds them, dtypes,
/// models and tensor names.
const HEADER_STRINGS: &[&str] = &[
    "\"0\"",
    "\"16\"",
    "\"-1\"",
    "\"1e308\"",
    "\"NaN\"",
    "\"18446744073709551615\"",
    "\"F32\"",
    "\"U8\"",
    "\"I64\"",
    "\"BF16\"",
    "\"F64\"",
    "\"BOOL\"",
    "\"lenet5\"",
    "\"googlenet\"",
    "\"resnet\"",
    "\"resnet-full-preact\"",
    "\"checkpoint\"",
    "\"\"",
    "\"conv1.weight\"",
    "\"optimizer.momentum.x\"",
    "\"training.order\"",
];

impl Mutator {
    /// `file` with values of its JSON header (numbers, strings) swapped for
    /// others of the same kind and the length prefix fixed, so most mutants
    /// are still safetensors files and reach the loaders' own checks.
    fn mutate_safetensors_header(&mut self, file: &[u8]) -> Vec<u8> {
        let end = header_len(file);
        let mut json = String::from_utf8(file[8..end].to_vec()).unwrap();
        for _ in 0..self.0.random_range(1..=3) {
            let mut values = json_values(&json);
            // Half the time a metadata value, where the loaders' own checks lie.
            let metadata = json.find("\"__metadata__\"").map(|at| at..at + json[at..].find('}').unwrap_or(0));
            if let Some(metadata) = metadata.filter(|_| self.0.random_bool(0.5)) {
                values.retain(|(start, _)| metadata.contains(start));
            }
            let (start, value_end) = values[self.0.random_range(0..values.len())];
            let words = if json[start..].starts_with('"') { HEADER_STRINGS } else { HEADER_NUMBERS };
            json.replace_range(start..value_end, words[self.0.random_range(0..words.len())]);
        }
        [&(json.len() as u64).to_le_bytes(), json.as_bytes(), &file[end..]].concat()
    }
}

/// Byte ranges of the strings and numbers of `json` that are values, not keys.
fn json_values(json: &str) -> Vec<(usize, usize)> {
    let bytes = json.as_bytes();
    let mut values = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = match bytes[at] {
            b'"' => json[at + 1..].find('"').map_or(bytes.len(), |e| at + e + 2),
            b'-' | b'0'..=b'9' => json[at..].find([',', ']', '}']).map_or(bytes.len(), |e| at + e),
            _ => {
                at += 1;
                continue;
            }
        };
        if bytes.get(end) != Some(&b':') {
            values.push((at, end));
        }
        at = end;
    }
    values
}

#[test]
fn png_and_jpeg_images() {
    let digit = DynamicImage::ImageLuma8(digits(1).remove(0));
    let colour = DynamicImage::ImageRgb8(RgbImage::from_fn(28, 28, |x, y| {
        let v = digit.as_luma8().unwrap().get_pixel(x, y).0[0];
        Rgb([v, v / 2, 255 - v])
    }));
    let encode = |image: &DynamicImage, format| {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    };
    let seeds = [
        encode(&digit, ImageFormat::Png),
        encode(&DynamicImage::ImageRgba8(colour.to_rgba8()), ImageFormat::Png),
        encode(&DynamicImage::ImageLuma16(digit.to_luma16()), ImageFormat::Png),
        encode(&digit, ImageFormat::Jpeg),
        encode(&colour, ImageFormat::Jpeg),
    ];
    let decode = |bytes: &[u8]| {
        let _ = digit_from_image_bytes(bytes);
    };
    let mut m = Mutator::new(3);
    for i in 0..3000 {
        let seed = &seeds[i % seeds.len()];
        survives("image", &m.mutate(seed, 64), decode);
        let signature: &[u8] = if i % 2 == 0 { b"\x89PNG\r\n\x1a\n" } else { b"\xff\xd8\xff" };
        survives("image", &[signature, &m.random(64)].concat(), decode);
    }
}

/// A safetensors file holding one tensor with `shape` and no data.
fn safetensors_with_shape(shape: &str) -> Vec<u8> {
    let json = format!(r#"{{"x":{{"dtype":"F32","shape":{shape},"data_offsets":[0,0]}}}}"#);
    [&(json.len() as u64).to_le_bytes(), json.as_bytes()].concat()
}

#[test]
fn crashes_found_stay_fixed() {
    // An empty tensor whose other dimensions multiply past usize: candle's
    // strides overflowed, a panic in the fuzz build (overflow checks on).
    // Found reading candle's code, confirmed with the checkpoint target.
    let file = safetensors_with_shape("[0,1099511627776,1099511627776]");
    for err in [
        load_model_bytes(&file, Path::new("empty"), &Device::Cpu).err().unwrap(),
        load_checkpoint_bytes(&file, Path::new("empty"), &Device::Cpu).err().unwrap(),
    ] {
        assert!(err.to_string().contains("too large to address"), "{err}");
    }
}
