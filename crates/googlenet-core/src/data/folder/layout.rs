//! Which folders are the classes: the layout of a root (train/ and test/,
//! or class folders to hold a test split out of), its classes checked.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::walk::{SubFolder, Walker};
use super::{FolderOptions, Layout, Split, MAX_CLASSES};
use crate::files::io_error;
use crate::{Error, Result};

/// A class: its name and its folders, each with the split it holds (`None`:
/// decided by the hold-out).
pub(super) struct ClassFolders {
    pub name: String,
    pub dirs: Vec<(PathBuf, Option<Split>)>,
}

/// The layout of `root` and its classes, in label order. `root` is marked
/// read in `walker`, and so are train/ and test/.
pub(super) fn find_classes(walker: &mut Walker, root: &Path, options: &FolderOptions) -> Result<(Layout, Vec<ClassFolders>)> {
    check_root(root)?;
    walker.enter(root)?;
    if root.join("train").is_dir() && root.join("test").is_dir() {
        let classes = split_classes(walker, root)?
            .into_iter()
            .map(|(name, [train, test])| ClassFolders { name, dirs: vec![(train, Some(Split::Train)), (test, Some(Split::Test))] })
            .collect();
        return Ok((Layout::Splits, classes));
    }
    let classes = class_folders(walker, root)?.into_iter().map(|(name, dir)| ClassFolders { name, dirs: vec![(dir, None)] }).collect();
    Ok((Layout::HeldOut { test_split: options.test_split }, classes))
}

fn check_root(root: &Path) -> Result<()> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::data(root, "not a folder (a folder of class folders of images was expected)")),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::data(root, "folder not found")),
        Err(e) => Err(io_error(root, e)),
    }
}

/// A class: its name and its folder.
type Class = (String, PathBuf);

/// The class folders of `dir`, sorted by name, checked: at least two, at
/// most [`MAX_CLASSES`], names in UTF-8. Images beside them are skipped.
fn class_folders(walker: &mut Walker, dir: &Path) -> Result<Vec<Class>> {
    let listing = walker.list(dir)?;
    if listing.folders.is_empty() {
        let shown = dir.display();
        return Err(match listing.images.len() {
            0 => Error::data(dir, format!("holds no class folders: images are read from {shown}/<class name>/, one sub-folder per class")),
            n => Error::data(
                dir,
                format!("holds {n} images but no class folders: put images in one sub-folder per class ({shown}/<class name>/<image>)"),
            ),
        });
    }
    for image in listing.images {
        walker.skip(image, "not in a class folder");
    }
    let mut classes = Vec::with_capacity(listing.folders.len());
    for SubFolder { name, path, .. } in listing.folders {
        match name.into_string() {
            Ok(name) => classes.push((name, path)),
            Err(name) => {
                return Err(Error::data(&path, format!("a class folder's name must be UTF-8 text; {:?} is not", name.to_string_lossy())))
            }
        }
    }
    match classes.len() {
        1 => Err(Error::data(dir, format!("needs at least two classes (class folders); it has one, {:?}", classes[0].0))),
        n if n > MAX_CLASSES => {
            Err(Error::data(dir, format!("has {n} class folders; at most {MAX_CLASSES} classes are read (labels are bytes)")))
        }
        _ => Ok(classes),
    }
}

/// The classes of train/ and test/, which must be the same: each class's
/// name and its two folders.
fn split_classes(walker: &mut Walker, root: &Path) -> Result<Vec<(String, [PathBuf; 2])>> {
    let listing = walker.list(root)?;
    let other = listing.folders.into_iter().map(|f| f.path).filter(|p| !p.ends_with("train") && !p.ends_with("test"));
    for path in other.chain(listing.images) {
        walker.skip(path, "not read: the folder has train/ and test/, and only they are read");
    }
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    for dir in [&train_dir, &test_dir] {
        if !walker.enter(dir)? {
            return Err(Error::data(dir, "is the same folder as the other split's: train/ and test/ must be two folders"));
        }
    }
    let train = class_folders(walker, &train_dir)?;
    let test = class_folders(walker, &test_dir)?;
    for ((a, a_dir), (b, b_dir)) in [((&train, &train_dir), (&test, &test_dir)), ((&test, &test_dir), (&train, &train_dir))] {
        if let Some((name, _)) = a.iter().find(|(name, _)| !b.iter().any(|(other, _)| other == name)) {
            let a_name = a_dir.file_name().unwrap_or_default().to_string_lossy();
            return Err(Error::data(
                b_dir,
                format!("has no folder for the class {name:?}, which {a_name}/ has: both splits need the same classes"),
            ));
        }
    }
    let mut test: HashMap<String, PathBuf> = test.into_iter().collect();
    Ok(train.into_iter().filter_map(|(name, train)| Some([train, test.remove(&name)?]).map(|dirs| (name, dirs))).collect())
}
