//! A gray image to a 28×28 digit the way MNIST was made: the ink's bounding
//! box scaled to 20 pixels on its larger side, keeping the aspect ratio,
//! then placed in a 28×28 black field with its centre of mass at the centre.

use ::image::GrayImage;

use super::resample::resize;

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

/// Returns the 28×28 digit (ink bright on black, in [0, 1]) and whether the
/// image was dark on light and so inverted.
pub(super) fn fit(gray: &GrayImage) -> (Vec<f32>, bool) {
    let background = border_median(gray);
    let inverted = background > 127;
    let ink = ink_levels(background, inverted);
    let mut digit = vec![0.0; SIDE * SIDE];
    let Some((x0, y0, w, h)) = ink_box(gray, &ink) else {
        return (digit, inverted);
    };
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
    for (y, row) in patch.chunks_exact(out_w).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            digit[(top + y) * SIDE + left + x] = v.clamp(0.0, 1.0);
        }
    }
    (digit, inverted)
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

/// The bounding box (x, y, width, height) of the pixels with ink, if any.
fn ink_box(gray: &GrayImage, ink: &[f32; 256]) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (x, y, p) in gray.enumerate_pixels() {
        if ink[p.0[0] as usize] > INK_THRESHOLD {
            let (x, y) = (x as usize, y as usize);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    (x0 != usize::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
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
