//! A folder of images read whole ([`super::folder::load_folder`]) as the two
//! datasets training uses.

use super::folder::{FolderData, Images};
use super::{Dataset, ImageShape};
use crate::{Error, Result};

/// The training and test datasets of a folder read whole: the images each
/// split kept (damaged ones are in neither), the folder's class names, and
/// pixel statistics measured on the training split. A split left with no
/// image (every one of them damaged) is refused, naming the folder.
pub fn folder_datasets(data: FolderData) -> Result<(Dataset, Dataset)> {
    let FolderData { root, class_names, channels, size: (height, width), train, test, .. } = data;
    let shape = ImageShape { channels, height, width };
    let split = |images: Images, which: &str| {
        if images.is_empty() {
            return Err(Error::data(&root, format!("no {which} image could be read: see the files skipped")));
        }
        Dataset::with_classes(images.pixels, images.labels, shape, Some(class_names.clone()))
    };
    Ok((split(train, "training")?, split(test, "test")?))
}
