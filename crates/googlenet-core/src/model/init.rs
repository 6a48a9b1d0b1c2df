use candle_core::{Device, Shape, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// PyTorch's default init for conv and linear layers (kaiming-uniform with
/// a = √5 for weights, which reduces to the same bound as the biases):
/// U(−1/√fan_in, 1/√fan_in). Drawn on the host from a seeded ChaCha stream so
/// a seed gives the same model on every device.
pub fn pytorch_uniform(rng: &mut ChaCha8Rng, shape: impl Into<Shape>, fan_in: usize, device: &Device) -> candle_core::Result<Tensor> {
    let shape = shape.into();
    let bound = 1.0 / (fan_in as f32).sqrt();
    let values: Vec<f32> = (0..shape.elem_count()).map(|_| rng.random_range(-bound..bound)).collect();
    Tensor::from_vec(values, shape, device)
}
