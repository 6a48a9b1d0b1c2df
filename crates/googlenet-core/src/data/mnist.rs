//! MNIST-format folders: the four standard file names, each raw or `.gz`.

use std::path::{Path, PathBuf};

use super::{idx, Dataset};
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
fn find_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(Error::data(raw, format!("file not found (nor {name}.gz)")))
}

/// Loads one split of an MNIST-format folder.
pub fn load_mnist_split(dir: &Path, split: Split) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(Error::data(dir, "data folder not found"));
    }
    let (images_name, labels_name) = split.file_names();
    let images_path = find_file(dir, images_name)?;
    let labels_path = find_file(dir, labels_name)?;
    let images = idx::read_images(&images_path)?;
    let labels = idx::read_labels(&labels_path)?;
    if images.count != labels.len() {
        return Err(Error::data(
            &labels_path,
            format!("{} labels, but {} holds {} images", labels.len(), images_path.display(), images.count),
        ));
    }
    // Dataset::new re-checks sizes and labels; report its complaints against the label file.
    Dataset::new(images.pixels, labels, images.rows, images.cols).map_err(|e| match e {
        Error::InvalidArgument(message) => Error::data(&labels_path, message),
        other => other,
    })
}

/// Loads both splits of an MNIST-format folder.
pub fn load_mnist(dir: &Path) -> Result<(Dataset, Dataset)> {
    Ok((load_mnist_split(dir, Split::Train)?, load_mnist_split(dir, Split::Test)?))
}
