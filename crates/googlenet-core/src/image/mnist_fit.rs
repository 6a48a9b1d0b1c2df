//! A gray image to a 28×28 digit the way MNIST was made: the ink's bounding
//! box scaled to 20 pixels on its larger side, keeping the aspect ratio,
//! then placed in a 28×28 black field with its centre of mass at the centre.
//!
//! First it decides whether the image holds a digit at all: scaling blows
//! any mark up to 20 pixels, so a blank page, a speck or faint shading
//! would otherwise become a "digit" that a model classifies with confidence.
//! The rule is in [`NoDigit`].

use ::image::GrayImage;

use super::resample::resize;
use super::Digit;

/// Side of the output image.
pub const SIDE: usize = 28;
/// The larger side of the digit's bounding box after scaling.
pub const DIGIT_BOX: usize = 20;
/// Ink level (0..1, after polarity and background) above which a pixel
/// counts for the bounding box. MNIST's test digits keep their 20-pixel box
/// at this level (all but 4 of 10,000), and it is above the ringing JPEG
/// leaves around strokes, which at 0.05 widened the box of one digit in ten.
const INK_THRESHOLD: f32 = 0.1;
/// Where MNIST puts the centre of mass: pixel index 14 on both axes (the mean
/// over the MNIST test set is 14.00 in x and 13.99 in y).
const CENTRE: f32 = 14.0;

/// The mean ink level the marks need, twice [`INK_THRESHOLD`]: shading
/// (uneven light, a faint gradient) barely clears the threshold where it
/// clears it at all, while strokes stand far above it (every MNIST test
/// digit averages at least 0.46).
const MIN_MEAN_INK: f32 = 0.2;
/// The fewest pixels a digit's larger side can span: the smallest legible
/// digits, those of 3×5-pixel fonts, are 5 tall.
const MIN_DIGIT_SIDE: usize = 5;
/// A digit's larger side spans at least 1/100 of the image's larger side: a
/// mark smaller than that is a speck on the page, not what it shows.
const MIN_DIGIT_SHARE: usize = 100;
/// Ink (the sum of ink levels) a digit needs per pixel of its box's larger
/// side. Strokes cross the box, so a digit drawn in one piece has at least
/// one pixel of full ink per pixel of that side; half allows for faded and
/// broken strokes (every MNIST test digit has at least 1.07). Scattered
/// specks have far less ink than their box is wide.
const MIN_INK_PER_SIDE: f64 = 0.5;

/// Why an image holds no digit. The rules, in this order, judge the pixels
/// whose ink level is above [`INK_THRESHOLD`] (the marks).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoDigit {
    /// No pixel stands out from the background: a flat or nearly flat image.
    #[error("the image is blank: nothing stands out from its background")]
    Blank,
    /// The marks' mean ink level (their contrast with the background, as a
    /// share of the full range) is below [`MIN_MEAN_INK`]: shading, not strokes.
    #[error("only faint shading: the marks average {:.0}% contrast with the background, a digit needs {:.0}%", 100.0 * contrast, 100.0 * MIN_MEAN_INK)]
    Faint { contrast: f32 },
    /// The marks' box is smaller on its larger side than [`MIN_DIGIT_SIDE`]
    /// pixels or 1/[`MIN_DIGIT_SHARE`] of the image's larger side.
    #[error("the marks are only {width}×{height} pixels, too small for a digit (at least {min_side} on the larger side)")]
    TooSmall { width: usize, height: usize, min_side: usize },
    /// The marks hold less ink than [`MIN_INK_PER_SIDE`] times their box's
    /// larger side: specks scattered over the image, not strokes.
    #[error("only scattered specks: ink worth {ink:.1} pixels spread over {width}×{height}, too little for strokes across it")]
    Scattered { ink: f64, width: usize, height: usize },
}

/// The pixels with ink: their bounding box, how many they are and their
/// total ink level.
struct Marks {
    x0: usize,
    y0: usize,
    width: usize,
    height: usize,
    pixels: usize,
    ink: f64,
}

impl Marks {
    /// Applies the rules of [`NoDigit`] after [`NoDigit::Blank`]; `image_side`
    /// is the larger side of the whole image.
    fn judge(&self, image_side: usize) -> Result<(), NoDigit> {
        let contrast = (self.ink / self.pixels as f64) as f32;
        let longer = self.width.max(self.height);
        let min_side = MIN_DIGIT_SIDE.max(image_side.div_ceil(MIN_DIGIT_SHARE));
        if contrast < MIN_MEAN_INK {
            Err(NoDigit::Faint { contrast })
        } else if longer < min_side {
            Err(NoDigit::TooSmall { width: self.width, height: self.height, min_side })
        } else if self.ink < MIN_INK_PER_SIDE * longer as f64 {
            Err(NoDigit::Scattered { ink: self.ink, width: self.width, height: self.height })
        } else {
            Ok(())
        }
    }
}

/// Fits the digit in `gray`, or says why there is none (the pixels are then
/// all 0: nothing is fitted).
pub(super) fn fit(gray: &GrayImage) -> Digit {
    let background = border_median(gray);
    let inverted = background > 127;
    let ink = ink_levels(background, inverted);
    let image_side = gray.width().max(gray.height()) as usize;
    let found = marks(gray, &ink).ok_or(NoDigit::Blank).and_then(|m| m.judge(image_side).map(|()| m));
    let (pixels, no_digit) = match found {
        Ok(marks) => (place(gray, &ink, &marks), None),
        Err(why) => (vec![0.0; SIDE * SIDE], Some(why)),
    };
    Digit { pixels, inverted, source_width: gray.width(), source_height: gray.height(), no_digit }
}

/// Scales the marks' box into the 28×28 field and centres it by mass.
fn place(gray: &GrayImage, ink: &[f32; 256], marks: &Marks) -> Vec<f32> {
    let Marks { x0, y0, width: w, height: h, .. } = *marks;
    // The larger side becomes 20 pixels; the other keeps the aspect ratio.
    let longer = w.max(h) as f64;
    let out_w = ((w as f64 * DIGIT_BOX as f64 / longer).round() as usize).clamp(1, DIGIT_BOX);
    let out_h = ((h as f64 * DIGIT_BOX as f64 / longer).round() as usize).clamp(1, DIGIT_BOX);
    let patch = resize(|x, y| ink[gray.get_pixel((x0 + x) as u32, (y0 + y) as u32).0[0] as usize], w, h, out_w, out_h);

    // Shift by whole pixels, as MNIST did (no second resampling), and keep
    // the whole patch inside the field even when its mass sits near an edge.
    let (cx, cy) = centre_of_mass(&patch, out_w);
    let left = ((CENTRE - cx).round().max(0.0) as usize).min(SIDE - out_w);
    let top = ((CENTRE - cy).round().max(0.0) as usize).min(SIDE - out_h);
    let mut digit = vec![0.0; SIDE * SIDE];
    for (y, row) in patch.chunks_exact(out_w).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            digit[(top + y) * SIDE + left + x] = v.clamp(0.0, 1.0);
        }
    }
    digit
}

/// The median gray level of the outermost ring of pixels: the background,
/// even where a stroke touches the edge.
fn border_median(gray: &GrayImage) -> u8 {
    let (w, h) = gray.dimensions();
    let mut counts = [0u64; 256];
    let mut add = |x, y| counts[gray.get_pixel(x, y).0[0] as usize] += 1;
    for x in 0..w {
        add(x, 0);
        if h > 1 {
            add(x, h - 1);
        }
    }
    for y in 1..h.saturating_sub(1) {
        add(0, y);
        if w > 1 {
            add(w - 1, y);
        }
    }
    let total: u64 = counts.iter().sum();
    let mut seen = 0;
    for (level, &count) in counts.iter().enumerate() {
        seen += count;
        if 2 * seen >= total {
            return level as u8;
        }
    }
    255
}

/// Ink level of each gray value: polarity made MNIST's (ink bright), then the
/// background level mapped to 0 and the rest stretched to [0, 1], so gray
/// paper in a photo becomes MNIST's black. A no-op on MNIST's own images.
fn ink_levels(background: u8, inverted: bool) -> [f32; 256] {
    let ink = |v: u8| if inverted { 255 - v } else { v };
    // At most 127: the background is dark, or was light and got inverted.
    let floor = ink(background) as f32;
    std::array::from_fn(|v| ((ink(v as u8) as f32 - floor) / (255.0 - floor)).max(0.0))
}

/// The marks of the image, if any pixel has ink.
fn marks(gray: &GrayImage, ink: &[f32; 256]) -> Option<Marks> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    let (mut pixels, mut total) = (0, 0.0f64);
    for (x, y, p) in gray.enumerate_pixels() {
        let level = ink[p.0[0] as usize];
        if level > INK_THRESHOLD {
            let (x, y) = (x as usize, y as usize);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            pixels += 1;
            total += level as f64;
        }
    }
    (pixels > 0).then(|| Marks { x0, y0, width: x1 - x0 + 1, height: y1 - y0 + 1, pixels, ink: total })
}

/// Centre of mass in pixel indices. The patch has ink (its box was found by
/// it, and averaging keeps it), so the mass is positive.
fn centre_of_mass(patch: &[f32], width: usize) -> (f32, f32) {
    let (mut mass, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in patch.iter().enumerate() {
        let v = v as f64;
        mass += v;
        sx += v * (i % width) as f64;
        sy += v * (i / width) as f64;
    }
    ((sx / mass) as f32, (sy / mass) as f32)
}
