//! Data augmentation for small training sets: each training image, as a
//! batch is gathered, rotated by a small random angle, shifted by a random
//! crop of the zero-padded image, and mirrored at random (torchvision's
//! `RandomRotation`, `RandomCrop(padding=p)` and `RandomHorizontalFlip`,
//! in that order), on the raw bytes before normalization.
//!
//! Every image draws from a generator of its own, keyed by the run's seed,
//! the epoch and the image's index in the dataset: a batch's images do not
//! depend on the batches before it, so a run resumed from a checkpoint
//! mid-epoch, or run on any number of threads, sees the same images.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::{Dataset, ImageShape};

/// What to draw for each training image. [`Default`] is all off: the
/// images as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Augmentation {
    /// Zeros added on each side before an H×W crop at a uniform offset:
    /// a shift of up to this many pixels each way.
    pub crop_padding: usize,
    /// Mirror left to right with probability 0.5.
    pub flip: bool,
    /// Rotate about the centre by a uniform angle in [−r, r] degrees.
    pub max_rotation_degrees: f32,
}

impl Augmentation {
    /// Whether every image stays as it is.
    pub fn is_off(&self) -> bool {
        self.crop_padding == 0 && !self.flip && self.max_rotation_degrees == 0.0
    }

    /// One image's transform, drawn from `rng`: the angle, then the crop's
    /// offset, then the flip, each drawn only when it is on.
    pub fn draw(&self, rng: &mut impl Rng) -> Transform {
        let r = self.max_rotation_degrees;
        let degrees = if r > 0.0 { rng.random_range(-r..=r) } else { 0.0 };
        let p = self.crop_padding as i32;
        let mut offset = || if p > 0 { rng.random_range(0..=2 * p) - p } else { 0 };
        let shift = [offset(), offset()];
        let flip = self.flip && rng.random_bool(0.5);
        Transform { degrees, shift, flip }
    }
}

/// One image's drawn augmentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    /// Counter-clockwise, about the image's centre.
    pub degrees: f32,
    /// The crop's offset in the padded image less the padding, [rows,
    /// columns]: output pixel (y, x) is the rotated image's (y + dy, x + dx),
    /// or 0 outside it.
    pub shift: [i32; 2],
    pub flip: bool,
}

impl Transform {
    /// Writes `image` (C×H×W bytes of `shape`) transformed into `out`:
    /// rotated (bilinear, zero fill, rounded to the nearest byte), then
    /// shifted, then mirrored, every channel alike. The three are folded
    /// into one pass that reads each output pixel's source directly.
    pub fn apply(&self, image: &[u8], shape: ImageShape, out: &mut [u8]) {
        let ImageShape { height, width, .. } = shape;
        assert_eq!(image.len(), shape.bytes(), "one image of {shape}");
        assert_eq!(out.len(), shape.bytes(), "room for one image of {shape}");
        let rotation = (self.degrees != 0.0).then(|| Rotation::new(self.degrees, height, width));
        let plane = height * width;
        for (src, dst) in image.chunks_exact(plane).zip(out.chunks_exact_mut(plane)) {
            for (y, row) in dst.chunks_exact_mut(width).enumerate() {
                for (x, pixel) in row.iter_mut().enumerate() {
                    let x = if self.flip { width - 1 - x } else { x };
                    let (ry, rx) = (y as i64 + self.shift[0] as i64, x as i64 + self.shift[1] as i64);
                    *pixel = if ry < 0 || rx < 0 || ry >= height as i64 || rx >= width as i64 {
                        0
                    } else {
                        match &rotation {
                            Some(r) => r.sample(src, ry as f32, rx as f32),
                            None => src[ry as usize * width + rx as usize],
                        }
                    };
                }
            }
        }
    }
}

/// A rotation about the centre of an H×W plane, sampled backwards: each
/// output pixel reads the input where the rotation takes it from.
struct Rotation {
    cos: f32,
    sin: f32,
    /// The centre, ((H − 1)/2, (W − 1)/2) in pixel coordinates, as torchvision's.
    centre: (f32, f32),
    height: usize,
    width: usize,
}

impl Rotation {
    fn new(degrees: f32, height: usize, width: usize) -> Self {
        // In f64, then rounded: the same f32s wherever the libm's last bits differ.
        let radians = (degrees as f64).to_radians();
        let centre = ((height as f32 - 1.0) / 2.0, (width as f32 - 1.0) / 2.0);
        Self { cos: radians.cos() as f32, sin: radians.sin() as f32, centre, height, width }
    }

    /// The rotated plane's pixel (y, x) from `plane`: bilinear between the
    /// four nearest input pixels, those outside the image counting as 0.
    fn sample(&self, plane: &[u8], y: f32, x: f32) -> u8 {
        let (v, u) = (y - self.centre.0, x - self.centre.1);
        // With y pointing down, turning the image counter-clockwise by θ
        // takes the input at the output's position turned clockwise by θ.
        let sx = self.centre.1 + u * self.cos - v * self.sin;
        let sy = self.centre.0 + u * self.sin + v * self.cos;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0, w) = (x0 as isize, y0 as isize, self.width);
        // Inside, the four are two pairs of neighbours; only a border pixel
        // checks each (checking all four everywhere took 1.7 times as long).
        let [p00, p01, p10, p11] = if x0 >= 0 && y0 >= 0 && x0 + 1 < w as isize && y0 + 1 < self.height as isize {
            let at = y0 as usize * w + x0 as usize;
            [plane[at], plane[at + 1], plane[at + w], plane[at + w + 1]].map(f32::from)
        } else {
            let at = |y: isize, x: isize| {
                if y < 0 || x < 0 || y >= self.height as isize || x >= w as isize {
                    0.0
                } else {
                    plane[y as usize * w + x as usize] as f32
                }
            };
            [at(y0, x0), at(y0, x0 + 1), at(y0 + 1, x0), at(y0 + 1, x0 + 1)]
        };
        let top = p00 * (1.0 - fx) + p01 * fx;
        let bottom = p10 * (1.0 - fx) + p11 * fx;
        // Ties to even, as torch.round brings torchvision's result back to bytes.
        (top * (1.0 - fy) + bottom * fy).round_ties_even() as u8
    }
}

/// Augments one image (C×H×W bytes of `shape`) into `out` with a transform
/// drawn from `rng` (see [`Augmentation::draw`] and [`Transform::apply`]).
/// With `a` all off, `out` is `image`.
pub fn augment(image: &[u8], shape: ImageShape, a: &Augmentation, rng: &mut impl Rng, out: &mut [u8]) {
    a.draw(rng).apply(image, shape, out);
}

/// The generator of the image at `index` of the dataset in (1-based)
/// `epoch` of a run seeded with `seed`: its key is the three numbers
/// themselves, so no two images of a run share a stream.
pub fn sample_rng(seed: u64, epoch: usize, index: usize) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    key[16..24].copy_from_slice(&(index as u64).to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

/// The augmentation of one epoch's training batches.
#[derive(Debug, Clone, Copy)]
pub struct EpochAugmentation<'a> {
    pub augmentation: &'a Augmentation,
    pub seed: u64,
    /// 1-based, as `fit` counts epochs.
    pub epoch: usize,
}

impl EpochAugmentation<'_> {
    /// The images of `data` at `indices`, each augmented with its own
    /// generator ([`sample_rng`]), one after another (N×C×H×W bytes).
    ///
    /// The images are spread over rayon's threads: a batch of 64 MNIST
    /// images rotated (10°) and shifted (padding 2) took 0.55 ms on one
    /// thread and, at best, 0.40 ms on two (AMD EPYC Zen 5, 2 cores that
    /// other jobs shared; an earlier, slower sampler went from 0.92 to
    /// 0.46 ms with the second core free), where lenet5's step on the
    /// batch takes 1.2 to 2 ms.
    pub fn images(&self, data: &Dataset, indices: &[usize]) -> Vec<u8> {
        let shape = data.shape();
        let mut out = vec![0u8; indices.len() * shape.bytes()];
        out.par_chunks_mut(shape.bytes()).zip(indices.par_iter()).for_each(|(out, &i)| {
            augment(data.image(i), shape, self.augmentation, &mut sample_rng(self.seed, self.epoch, i), out);
        });
        out
    }
}
