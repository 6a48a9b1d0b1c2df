//! The held-out split: which of a class's images go to the test split.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// How many of a class's `count` images are held out for testing:
/// `round(count × test_split)` (halves away from zero), at least 1 when the
/// class has 2 or more images and `test_split > 0`, and at most
/// `count − 1`, so every class keeps a training image.
pub fn held_out_count(count: usize, test_split: f64) -> usize {
    if count < 2 || test_split <= 0.0 {
        return 0;
    }
    ((count as f64 * test_split).round() as usize).clamp(1, count - 1)
}

/// Which of class `class`'s `count` images (indices in the class's order)
/// are held out, as a mask: the first [`held_out_count`] of a shuffle of
/// `0..count` by ChaCha8 seeded with `seed`, on stream `class`. Each class
/// has its own stream, so the split of one class does not depend on the
/// others, and nothing depends on threads.
pub fn held_out(count: usize, test_split: f64, seed: u64, class: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..count).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(class as u64);
    order.shuffle(&mut rng);
    let mut mask = vec![false; count];
    for &i in &order[..held_out_count(count, test_split)] {
        mask[i] = true;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_and_keep_one_on_each_side() {
        assert_eq!(held_out_count(0, 0.5), 0);
        assert_eq!(held_out_count(1, 0.9), 0, "a lone image trains");
        assert_eq!(held_out_count(2, 0.1), 1, "at least one");
        assert_eq!(held_out_count(2, 0.9), 1, "never all");
        assert_eq!(held_out_count(10, 0.25), 3, "2.5 rounds up");
        assert_eq!(held_out_count(100, 0.1), 10);
        assert_eq!(held_out_count(100, 0.0), 0);
    }

    #[test]
    fn masks_are_seeded() {
        let a = held_out(50, 0.2, 7, 0);
        assert_eq!(a.iter().filter(|&&t| t).count(), 10);
        assert_eq!(a, held_out(50, 0.2, 7, 0));
        assert_ne!(a, held_out(50, 0.2, 8, 0));
        assert_ne!(a, held_out(50, 0.2, 7, 1), "each class its own stream");
    }
}
