//! Every custom op against a reference: candle's own ops where they exist,
//! finite differences for gradients. Relative error below 1e-4.

use candle_core::{Device, Tensor, Var};
use crate::common::max_rel_err;
use googlenet_core::ops::{avg_pool3x3_same, col2im, conv2d_gemm, im2col, max_pool2x2_relu};

const TOL: f32 = 1e-4;

fn random(shape: &[usize], seed: u64) -> Tensor {
    // A fixed pseudo-random fill (no RNG crate needed for test inputs).
    let n: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// d(sum(f(x) · probe))/dx by central differences, in f64 arithmetic on the sums.
fn finite_difference(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, probe: &Tensor) -> Vec<f32> {
    let base = values(x);
    let objective = |v: &[f32]| -> f64 {
        let t = Tensor::from_vec(v.to_vec(), x.dims(), &Device::Cpu).unwrap();
        values(&f(&t)).iter().zip(values(probe)).map(|(a, b)| *a as f64 * b as f64).sum()
    };
    let eps = 1e-2f32;
    (0..base.len())
        .map(|i| {
            let mut plus = base.clone();
            plus[i] += eps;
            let mut minus = base.clone();
            minus[i] -= eps;
            ((objective(&plus) - objective(&minus)) / (2.0 * eps as f64)) as f32
        })
        .collect()
}

/// The gradient of sum(f(x) · probe) with respect to x by backprop.
fn backprop(f: impl Fn(&Tensor) -> Tensor, x: &Tensor, probe: &Tensor) -> Vec<f32> {
    let var = Var::from_tensor(x).unwrap();
    let objective = (f(var.as_tensor()) * probe).unwrap().sum_all().unwrap();
    values(objective.backward().unwrap().get(var.as_tensor()).unwrap())
}

#[test]
fn avg_pool_forward_matches_padded_candle_pool() {
    // Planes one pixel high or wide, GoogLeNet's 4×4 and 12×12, and more
    // planes than one task of the op takes.
    for (seed, dims) in [[2, 3, 5, 7], [1, 2, 1, 1], [1, 3, 1, 6], [2, 2, 5, 1], [4, 5, 4, 4], [2, 10, 12, 12]].iter().enumerate() {
        let x = random(dims, seed as u64 + 1);
        let ours = avg_pool3x3_same(&x).unwrap();
        let padded = x.pad_with_zeros(2, 1, 1).unwrap().pad_with_zeros(3, 1, 1).unwrap();
        let reference = padded.avg_pool2d_with_stride(3, 1).unwrap();
        assert_eq!(ours.dims(), x.dims());
        assert!(max_rel_err(&values(&ours), &values(&reference)) < TOL, "{dims:?}");
    }
}

#[test]
fn avg_pool_divides_by_nine_at_the_border() {
    let x = Tensor::ones((1, 1, 3, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    let y = values(&avg_pool3x3_same(&x).unwrap());
    assert!((y[0] - 4.0 / 9.0).abs() < 1e-6 && (y[1] - 6.0 / 9.0).abs() < 1e-6 && (y[4] - 1.0).abs() < 1e-6);
}

#[test]
fn avg_pool_backward_matches_finite_differences() {
    let x = random(&[2, 2, 4, 5], 2);
    let probe = random(&[2, 2, 4, 5], 3);
    let f = |t: &Tensor| avg_pool3x3_same(t).unwrap();
    assert!(max_rel_err(&backprop(f, &x, &probe), &finite_difference(f, &x, &probe)) < TOL);
}

#[test]
fn im2col_and_col2im_are_adjoint() {
    // <im2col(x), c> == <x, col2im(c)> for any x and c.
    // Channel-major: 3 channels of 2 images.
    let x = random(&[3, 2, 6, 5], 4);
    let cols = im2col(&x, 3, 1).unwrap();
    let c = random(cols.dims(), 5);
    let back = col2im(&c, 3, 1, 2, 6, 5).unwrap();
    let lhs: f32 = values(&(cols * &c).unwrap()).iter().sum();
    let rhs: f32 = values(&(x * back).unwrap()).iter().sum();
    assert!((lhs - rhs).abs() / rhs.abs().max(1.0) < TOL, "{lhs} vs {rhs}");
}

/// Runs `f` (an op on channel-major C×N×H×W activations) on N×C×H×W `x`
/// and returns its result as N×C×H×W, to compare with candle's conv2d.
fn channel_major(x: &Tensor, f: impl Fn(&Tensor) -> Tensor) -> Tensor {
    f(&x.transpose(0, 1).unwrap().contiguous().unwrap()).transpose(0, 1).unwrap().contiguous().unwrap()
}

/// Every kernel and padding the reference model uses.
const CASES: &[(usize, usize, usize, usize, usize)] = &[
    // (in channels, out channels, kernel, padding, image size)
    (1, 10, 5, 0, 12),
    (8, 6, 5, 0, 9),
    (5, 4, 5, 2, 7),
    (4, 6, 3, 1, 6),
    (7, 3, 1, 0, 5),
];

#[test]
fn gemm_conv_forward_matches_candle_conv2d() {
    for (i, &(cin, cout, k, pad, size)) in CASES.iter().enumerate() {
        let x = random(&[3, cin, size, size], 10 + i as u64);
        let w = random(&[cout, cin, k, k], 20 + i as u64);
        let b = random(&[cout], 25 + i as u64);
        let ours = channel_major(&x, |x| conv2d_gemm(x, &w, &b, pad).unwrap());
        let reference = x.conv2d(&w, pad, 1, 1, 1).unwrap().broadcast_add(&b.reshape((1, cout, 1, 1)).unwrap()).unwrap();
        assert_eq!(ours.dims(), reference.dims(), "case {i}");
        assert!(max_rel_err(&values(&ours), &values(&reference)) < TOL, "case {i}");
    }
}

#[test]
fn gemm_conv_gradients_match_candle_conv2d() {
    for (i, &(cin, cout, k, pad, size)) in CASES.iter().enumerate() {
        let x = Var::from_tensor(&random(&[2, cin, size, size], 30 + i as u64)).unwrap();
        let w = Var::from_tensor(&random(&[cout, cin, k, k], 40 + i as u64)).unwrap();
        let b = Var::from_tensor(&random(&[cout], 45 + i as u64)).unwrap();
        let bias4 = b.as_tensor().reshape((1, cout, 1, 1)).unwrap();
        let out = size + 2 * pad + 1 - k;
        let probe = random(&[2, cout, out, out], 50 + i as u64);
        let grads = |y: Tensor| (y * &probe).unwrap().sum_all().unwrap().backward().unwrap();
        let ours = grads(channel_major(x.as_tensor(), |x| conv2d_gemm(x, w.as_tensor(), b.as_tensor(), pad).unwrap()));
        let reference = grads(x.as_tensor().conv2d(w.as_tensor(), pad, 1, 1, 1).unwrap().broadcast_add(&bias4).unwrap());
        for var in [&x, &w, &b] {
            let (a, b) = (ours.get(var.as_tensor()).unwrap(), reference.get(var.as_tensor()).unwrap());
            assert!(max_rel_err(&values(a), &values(b)) < TOL, "case {i}");
        }
    }
}

#[test]
fn gemm_conv_input_gradient_matches_finite_differences() {
    let x = random(&[1, 2, 5, 5], 60);
    let w = random(&[3, 2, 3, 3], 61);
    let b = random(&[3], 63);
    let probe = random(&[1, 3, 5, 5], 62);
    let f = |t: &Tensor| channel_major(t, |x| conv2d_gemm(x, &w, &b, 1).unwrap());
    assert!(max_rel_err(&backprop(f, &x, &probe), &finite_difference(f, &x, &probe)) < TOL);
}

/// Distinct values 0.05 apart, none near zero, in a scrambled order: no ties
/// in a pool window and no ReLU kink within the finite-difference step.
fn distinct(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|i| ((i * 37) % n) as f32 * 0.05 - (n / 2) as f32 * 0.05 + 0.025).collect();
    Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
}

#[test]
fn max_pool_relu_forward_matches_candle() {
    for shape in [[2, 3, 8, 8], [1, 2, 5, 7]] {
        let x = random(&shape, 70);
        let ours = max_pool2x2_relu(&x).unwrap();
        let reference = x.max_pool2d(2).unwrap().relu().unwrap();
        assert_eq!(ours.dims(), reference.dims());
        assert_eq!(values(&ours), values(&reference));
    }
}

#[test]
fn max_pool_relu_backward_matches_finite_differences() {
    let x = distinct(&[2, 2, 6, 4]);
    let probe = random(&[2, 2, 3, 2], 71);
    let f = |t: &Tensor| max_pool2x2_relu(t).unwrap();
    let ours = backprop(f, &x, &probe);
    assert!(max_rel_err(&ours, &finite_difference(f, &x, &probe)) < TOL);
    // Exactly one input per window with a positive max gets the gradient.
    assert_eq!(ours.iter().filter(|g| **g != 0.0).count(), values(&max_pool2x2_relu(&x).unwrap()).iter().filter(|v| **v > 0.0).count());
}

#[test]
fn max_pool_ties_go_to_the_first_maximum_like_pytorch() {
    let x = Tensor::from_vec(vec![1f32, 3.0, 3.0, 2.0], (1, 1, 2, 2), &Device::Cpu).unwrap();
    let probe = Tensor::from_vec(vec![5f32], (1, 1, 1, 1), &Device::Cpu).unwrap();
    assert_eq!(backprop(|t| max_pool2x2_relu(t).unwrap(), &x, &probe), vec![0.0, 5.0, 0.0, 0.0]);
}
