//! MNIST-format folders: the four standard file names, each raw or `.gz`.

use std::path::{Path, PathBuf};

use super::{idx, Dataset, ImageShape};
use crate::{Error, Result};

/// Which half of an MNIST-format folder to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    fn file_names(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

/// `dir/name`, or `dir/name.gz` when only the compressed file is there.
/// Whatever is there under the name is taken (a folder or a dangling link
/// too), so that reading it says what it is instead of "not found".
fn find_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    let present = |p: &Path| p.symlink_metadata().is_ok();
    if raw.is_file() || (present(&raw) && !gz.is_file()) {
        return Ok(raw);
    }
    if present(&gz) {
        return Ok(gz);
    }
    Err(Error::data(raw, format!("file not found (nor {name}.gz)")))
}

/// Loads an images file and its labels file (each raw or `.gz`, under any
/// names), as a dataset whose classes are numbered 0 to its largest label.
pub fn load_idx_files(images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    let images = idx::read_images(images_path)?;
    let labels = idx::read_labels(labels_path)?;
    pair(images, labels, images_path, labels_path, "holds no images")
}

/// A training and a test split given the same classes: numbered 0 to the
/// largest label either has (a test split may lack the last classes).
pub fn same_classes(train: Dataset, test: Dataset) -> Result<(Dataset, Dataset)> {
    if train.classes().len() >= test.classes().len() {
        let classes = train.classes().to_vec();
        Ok((train, test.with_class_names(&classes)?))
    } else {
        let classes = test.classes().to_vec();
        Ok((train.with_class_names(&classes)?, test))
    }
}

/// Loads one split of an MNIST-format folder.
pub fn load_mnist_split(dir: &Path, split: Split) -> Result<Dataset> {
    Ok(load_mnist_split_from(dir, split)?.0)
}

/// [`load_mnist_split`], with the images file it read (to name in messages
/// about the data). A split that holds no images is refused: nothing can be
/// trained or evaluated on it.
pub fn load_mnist_split_from(dir: &Path, split: Split) -> Result<(Dataset, PathBuf)> {
    if !dir.is_dir() {
        return Err(Error::data(dir, if dir.exists() { "not a folder" } else { "data folder not found" }));
    }
    let (images_name, labels_name) = split.file_names();
    let images_path = find_file(dir, images_name)?;
    let labels_path = find_file(dir, labels_name)?;
    let images = idx::read_images(&images_path)?;
    let labels = idx::read_labels(&labels_path)?;
    let which = if split == Split::Train { "training" } else { "test" };
    let empty = format!("holds no images: the {which} split must not be empty");
    Ok((pair(images, labels, &images_path, &labels_path, &empty)?, images_path))
}

/// A dataset from the bytes of an IDX images file and an IDX labels file,
/// each raw or gzipped, for hosts with no file system (a browser tab that
/// fetched them); the paths only name the files in errors. Checked as
/// [`load_mnist_split`] checks files.
pub fn dataset_from_idx_bytes(images: Vec<u8>, labels: Vec<u8>, images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    let images = idx::parse_images(&idx::decode_maybe_gzip(images, images_path)?, images_path)?;
    let labels = idx::parse_labels(&idx::decode_maybe_gzip(labels, labels_path)?, labels_path)?;
    pair(images, labels, images_path, labels_path, "holds no images")
}

/// Images and the labels that go with them, as one dataset: one label per
/// image, and at least one image (else `empty` says why, against the images).
fn pair(images: idx::IdxImages, labels: Vec<u8>, images_path: &Path, labels_path: &Path, empty: &str) -> Result<Dataset> {
    if images.count != labels.len() {
        return Err(Error::data(
            labels_path,
            format!("{} labels, but {} holds {} images", labels.len(), images_path.display(), images.count),
        ));
    }
    if images.count == 0 {
        return Err(Error::data(images_path, empty));
    }
    // The dataset re-checks sizes and labels; report its complaints against the label file.
    let shape = ImageShape { channels: images.channels, height: images.rows, width: images.cols };
    Dataset::with_classes(images.pixels, labels, shape, None).map_err(|e| match e {
        Error::InvalidArgument(message) => Error::data(labels_path, message),
        other => other,
    })
}

/// Loads both splits of an MNIST-format folder, with the same classes.
pub fn load_mnist(dir: &Path) -> Result<(Dataset, Dataset)> {
    same_classes(load_mnist_split(dir, Split::Train)?, load_mnist_split(dir, Split::Test)?)
}
