//! Listing folders: the class folders of a root, and the image files under
//! a class folder, symbolic links followed but no folder read twice.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use super::{is_image_name, Skipped};
use crate::files::io_error;
use crate::{Error, Result};

pub(super) const NOT_AN_IMAGE: &str = "not an image file";

/// What a folder holds at its top level.
#[derive(Default)]
pub(super) struct Listing {
    /// Sub-folders (links to folders included), by name.
    pub folders: Vec<(OsString, PathBuf)>,
    /// Files named as images.
    pub images: Vec<PathBuf>,
}

/// The walk of one scan: what was left out, and the folders read so far
/// (canonical paths), so that none is read twice.
pub(super) struct Walker {
    strict: bool,
    visited: HashSet<PathBuf>,
    pub skipped: Vec<Skipped>,
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
                listing.folders.push((name, path));
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
        let canonical = match std::fs::canonicalize(dir) {
            Ok(canonical) => canonical,
            Err(e) => {
                self.skip_unreadable(dir.to_path_buf(), format!("cannot read the folder: {e}"))?;
                return Ok(false);
            }
        };
        if self.visited.contains(&canonical) {
            let above = dir.parent().and_then(|p| std::fs::canonicalize(p).ok()).is_some_and(|p| p.starts_with(&canonical));
            let reason = if above {
                format!("a symbolic link loop: {} is a folder above it; not followed", canonical.display())
            } else {
                format!("the folder {} was read already through another path; not read twice", canonical.display())
            };
            self.skip(dir.to_path_buf(), reason);
            return Ok(false);
        }
        self.visited.insert(canonical);
        Ok(true)
    }

    /// Every file named as an image under `class_dir`, at any depth, in
    /// `ImageFolder`'s order: by folder path, then by name (byte order).
    /// `class_dir` itself must have been [`enter`](Self::enter)ed (every
    /// class folder is, before any is walked, so that a link from one class
    /// into another is not read as the first's). Unreadable sub-folders are
    /// skipped (refused when strict).
    pub fn images_under(&mut self, class_dir: &Path) -> Result<Vec<PathBuf>> {
        let mut images = Vec::new();
        let mut pending = vec![class_dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            match self.list(&dir) {
                Ok(listing) => {
                    images.extend(listing.images);
                    for (_, sub) in listing.folders {
                        if self.enter(&sub)? {
                            pending.push(sub);
                        }
                    }
                }
                Err(e) => self.skip_unreadable(dir, format!("cannot read the folder: {}", super::reason(e)))?,
            }
        }
        // os.walk's folders sorted by path, each folder's files by name.
        images.sort_by(|a, b| (a.parent().map(Path::as_os_str), a.file_name()).cmp(&(b.parent().map(Path::as_os_str), b.file_name())));
        Ok(images)
    }
}
