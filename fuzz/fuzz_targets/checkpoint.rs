//! Safetensors files through the checkpoint loader and the model loader,
//! on the CPU.
//!
//! The tensor data of a model file is nearly all of its bytes but the least
//! interesting to mutate, and large inputs make libFuzzer slow and its
//! corpus huge. So an input is the start of a file followed by a u32
//! (little-endian): how many zero bytes the file goes on with (at most
//! `MAX_ZEROS`). The seeds are real LeNet-5 files cut after their header;
//! every byte of it, the length of the data and any bytes kept before the
//! zeros are the fuzzer's to mutate.
#![no_main]

use std::path::Path;

use candle_core::Device;
use googlenet_core::model::load_model_bytes;
use googlenet_core::train::load_checkpoint_bytes;
use libfuzzer_sys::fuzz_target;

/// More than a LeNet-5 checkpoint's data (494 KB) or a GoogLeNet's weights.
const MAX_ZEROS: usize = 1 << 20;

fuzz_target!(|input: &[u8]| {
    let Some((start, zeros)) = input.split_last_chunk::<4>() else { return };
    let zeros = (u32::from_le_bytes(*zeros) as usize).min(MAX_ZEROS);
    let mut file = Vec::with_capacity(start.len() + zeros);
    file.extend_from_slice(start);
    file.resize(start.len() + zeros, 0);
    let path = Path::new("fuzz.safetensors");
    let _ = load_checkpoint_bytes(&file, path, &Device::Cpu);
    let _ = load_model_bytes(&file, path, &Device::Cpu);
});
