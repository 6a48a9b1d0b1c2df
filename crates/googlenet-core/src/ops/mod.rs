//! Custom candle ops, each with a CPU kernel and a backward pass.

mod avg_pool3x3;

pub use avg_pool3x3::avg_pool3x3_same;
