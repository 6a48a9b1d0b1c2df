//! A folder of images read whole ([`super::folder::load_folder`]) as the two
//! datasets training uses.

use super::folder::{FolderData, Images, Layout};
use super::{Dataset, ImageShape};
use crate::{Error, Result};

/// The training and test datasets of a folder read whole: the images each
/// split kept (damaged ones are in neither), the folder's class names, and
/// pixel statistics measured on the training split. Each split's images
/// take the classes in turn (the first of each class, then the second…),
/// so the first images of a split are a sample of every class.
///
/// Refused, naming the folder: a class left with no training image (all
/// of its images damaged: it could not be learned), and an empty test split
/// unless none was held out (`test_split` 0).
pub fn folder_datasets(data: FolderData) -> Result<(Dataset, Dataset)> {
    let FolderData { root, class_names, layout, channels, size: (height, width), train, test, .. } = data;
    let shape = ImageShape { channels, height, width };
    let mut counts = vec![0usize; class_names.len()];
    train.labels.iter().for_each(|&l| counts[l as usize] += 1);
    if let Some(class) = counts.iter().position(|&n| n == 0) {
        return Err(Error::data(
            &root,
            format!(
                "class {:?} has no training image that could be read (see the files skipped): it cannot be learned",
                class_names[class]
            ),
        ));
    }
    if test.is_empty() && layout != (Layout::HeldOut { test_split: 0.0 }) {
        return Err(Error::data(&root, "no test image could be read: see the files skipped"));
    }
    let split = |images: Images| {
        let (pixels, labels) = classes_in_turn(images, shape.bytes());
        Dataset::with_classes(pixels, labels, shape, Some(class_names.clone()))
    };
    Ok((split(train)?, split(test)?))
}

/// The images reordered so that the classes take turns: the first image of
/// each class (in class order), then the second of each, and so on; within
/// a class the order is kept. The pixels are moved in place, a cycle of the
/// permutation at a time, so a set of several GiB is not held twice.
fn classes_in_turn(images: Images, image_bytes: usize) -> (Vec<u8>, Vec<u8>) {
    let Images { mut pixels, labels, .. } = images;
    let mut by_class: Vec<Vec<usize>> = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        let class = label as usize;
        if by_class.len() <= class {
            by_class.resize(class + 1, Vec::new());
        }
        by_class[class].push(i);
    }
    let longest = by_class.iter().map(Vec::len).max().unwrap_or(0);
    // order[k]: the image that goes to position k.
    let order: Vec<usize> = (0..longest).flat_map(|rank| by_class.iter().filter_map(move |members| members.get(rank).copied())).collect();
    let new_labels = order.iter().map(|&i| labels[i]).collect();
    let mut placed = vec![false; order.len()];
    let mut held = vec![0u8; image_bytes];
    for start in 0..order.len() {
        if placed[start] || order[start] == start {
            continue;
        }
        // Walk the cycle: position k takes the image at order[k], until the cycle returns to start.
        held.copy_from_slice(&pixels[start * image_bytes..(start + 1) * image_bytes]);
        let mut k = start;
        while order[k] != start {
            let from = order[k];
            pixels.copy_within(from * image_bytes..(from + 1) * image_bytes, k * image_bytes);
            placed[k] = true;
            k = from;
        }
        pixels[k * image_bytes..(k + 1) * image_bytes].copy_from_slice(&held);
        placed[k] = true;
    }
    (pixels, new_labels)
}
