//! Listing folders: the class folders of a root, and the image files under
//! the class folders, symbolic links followed but no folder read twice.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use super::{is_image_name, Skipped};
use crate::files::io_error;
use crate::{Error, Result};

pub(super) const NOT_AN_IMAGE: &str = "not an image file";

/// A sub-folder, or a symbolic link to a folder.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct SubFolder {
    pub name: OsString,
    pub path: PathBuf,
    pub is_link: bool,
}

/// What a folder holds at its top level.
#[derive(Default)]
pub(super) struct Listing {
    /// Sub-folders (links to folders included), by name.
    pub folders: Vec<SubFolder>,
    /// Files named as images.
    pub images: Vec<PathBuf>,
}

/// The walk of one scan: what was left out, and the folders read so far,
/// so that none is read twice.
pub(super) struct Walker {
    strict: bool,
    visited: HashSet<FolderId>,
    pub skipped: Vec<Skipped>,
}

/// What tells folders apart, whatever path (through links) reaches them:
/// the device and inode numbers.
#[cfg(any(unix, target_os = "wasi"))]
type FolderId = (u64, u64);
/// Elsewhere, the canonical path.
#[cfg(not(any(unix, target_os = "wasi")))]
type FolderId = PathBuf;

#[cfg(unix)]
fn folder_id(dir: &Path) -> std::io::Result<FolderId> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(dir)?;
    Ok((metadata.dev(), metadata.ino()))
}

/// std's `canonicalize` is unsupported on WASI, and its `MetadataExt`
/// unstable: wasi-libc's `stat` tells, as `crate::files` asks it.
#[cfg(target_os = "wasi")]
fn folder_id(dir: &Path) -> std::io::Result<FolderId> {
    let c =
        std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `c` is NUL-terminated; `stat` is written when the call returns 0.
    if unsafe { libc::stat(c.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: stat returned 0, so it filled the buffer.
    let stat = unsafe { stat.assume_init() };
    Ok((stat.st_dev, stat.st_ino))
}

#[cfg(not(any(unix, target_os = "wasi")))]
fn folder_id(dir: &Path) -> std::io::Result<FolderId> {
    std::fs::canonicalize(dir)
}

/// Whether a name starts with a dot: hidden, ignored silently.
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Whether the entry at `path`, of type `file_type` (not followed), is a
/// folder once links are followed. A link that leads nowhere (dangling, a
/// loop) is not: opening it as a file then says what it is.
fn is_folder(path: &Path, file_type: FileType) -> bool {
    if file_type.is_symlink() {
        return std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    }
    file_type.is_dir()
}

impl Walker {
    pub fn new(strict: bool) -> Self {
        Self { strict, visited: HashSet::new(), skipped: Vec::new() }
    }

    /// Lists `dir` as [`Listing`]s: hidden entries ignored, files that are
    /// not named as images listed as skipped. `dir` itself must be readable.
    pub fn list(&mut self, dir: &Path) -> Result<Listing> {
        let mut listing = Listing::default();
        for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let entry = entry.map_err(|e| io_error(dir, e))?;
            let name = entry.file_name();
            if is_hidden(&name) {
                continue;
            }
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| io_error(&path, e))?;
            if is_folder(&path, file_type) {
                listing.folders.push(SubFolder { name, path, is_link: file_type.is_symlink() });
            } else if is_image_name(&name) {
                listing.images.push(path);
            } else {
                self.skip(path, NOT_AN_IMAGE);
            }
        }
        listing.folders.sort();
        listing.images.sort();
        Ok(listing)
    }

    /// Notes `path` as left out for `reason` (no refusal, even when strict).
    pub fn skip(&mut self, path: PathBuf, reason: impl Into<String>) {
        self.skipped.push(Skipped { path, reason: reason.into() });
    }

    /// Notes a damaged or unreadable `path` as left out, or refuses it when
    /// strict.
    pub fn skip_unreadable(&mut self, path: PathBuf, reason: String) -> Result<()> {
        if self.strict {
            return Err(Error::data(path, reason));
        }
        self.skip(path, reason);
        Ok(())
    }

    /// Marks `dir` read; `Ok(false)`, with the reason listed, when it was
    /// read already (through a loop or another link).
    pub fn enter(&mut self, dir: &Path) -> Result<bool> {
        let id = match folder_id(dir) {
            Ok(id) => id,
            Err(e) => {
                self.skip_unreadable(dir.to_path_buf(), format!("cannot read the folder: {e}"))?;
                return Ok(false);
            }
        };
        if self.visited.insert(id) {
            return Ok(true);
        }
        // Rare: only then are the folders above it looked at.
        let reason = if dir.ancestors().skip(1).any(|above| folder_id(above).is_ok_and(|a| a == id)) {
            "a symbolic link loop: it leads to a folder above it; not followed"
        } else if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            "a link to a folder read already through another path; not read twice"
        } else {
            "a folder read already through another path; not read twice"
        };
        self.skip(dir.to_path_buf(), reason);
        Ok(false)
    }

    /// The files named as images under each of `class_dirs`, at any depth,
    /// each list in `ImageFolder`'s order: by folder path, then by name
    /// (byte order). Every class folder is marked read first, then every
    /// folder under them reached without a link, and only then are links
    /// followed: a folder reached both directly and through a link is read
    /// at its own place, and a link into another class's folder does not
    /// take its images. A class folder read already (two classes linked to
    /// one folder) gets no images. Unreadable folders are skipped (refused
    /// when strict).
    pub fn images_of(&mut self, class_dirs: &[PathBuf]) -> Result<Vec<Vec<PathBuf>>> {
        let entered = class_dirs.iter().map(|dir| self.enter(dir)).collect::<Result<Vec<_>>>()?;
        let mut images: Vec<Vec<PathBuf>> = vec![Vec::new(); class_dirs.len()];
        let mut links: Vec<Vec<PathBuf>> = vec![Vec::new(); class_dirs.len()];
        for (i, dir) in class_dirs.iter().enumerate() {
            if entered[i] {
                self.walk(dir, &mut images[i], Some(&mut links[i]))?;
            }
        }
        for (i, links) in links.into_iter().enumerate() {
            for link in links {
                if self.enter(&link)? {
                    self.walk(&link, &mut images[i], None)?;
                }
            }
        }
        for images in &mut images {
            // os.walk's folders sorted by path, each folder's files by name.
            images.sort_by(|a, b| (a.parent().map(Path::as_os_str), a.file_name()).cmp(&(b.parent().map(Path::as_os_str), b.file_name())));
        }
        Ok(images)
    }

    /// Adds the images under `dir` (marked read already) to `images`. Links
    /// to folders are added to `links` to be followed later, or with no
    /// `links`, followed now.
    fn walk(&mut self, dir: &Path, images: &mut Vec<PathBuf>, mut links: Option<&mut Vec<PathBuf>>) -> Result<()> {
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            match self.list(&dir) {
                Ok(listing) => {
                    images.extend(listing.images);
                    for sub in listing.folders {
                        match links.as_deref_mut() {
                            Some(links) if sub.is_link => links.push(sub.path),
                            _ => {
                                if self.enter(&sub.path)? {
                                    pending.push(sub.path);
                                }
                            }
                        }
                    }
                }
                Err(e) => self.skip_unreadable(dir, format!("cannot read the folder: {}", super::reason(e)))?,
            }
        }
        Ok(())
    }
}
