//! Data sets from folders of labelled images, laid out as torchvision's
//! `ImageFolder` and Keras's `image_dataset_from_directory` read them:
//!
//! ```text
//! root/<class name>/**/<image files>        one split, held out by seed
//! root/train/<class name>/**/<image files>  or two splits, when train/
//! root/test/<class name>/**/<image files>   and test/ are both there
//! ```
//!
//! Reading is two passes. [`scan_folder`] lists the files and reads each
//! image's header only (size and colour type, no pixels): what `info` shows,
//! and what [`load_folder`] checks before it decodes anything, so a set too
//! large for memory is refused before it is read. [`load_folder`] then
//! decodes every image in parallel straight into its place in the output.
//!
//! The rules:
//!
//! - Classes are the sub-folders of the root (of train/ and test/: both must
//!   hold the same ones), sorted by name in byte order as `ImageFolder`
//!   sorts them; a class's label is its index. Folders and files whose name
//!   starts with a dot (`.DS_Store`, `.ipynb_checkpoints`) are ignored.
//! - Images are the files under a class folder, at any depth, named `.png`,
//!   `.jpg`, `.jpeg`, `.bmp`, `.gif` or `.webp` (any case). Their format is
//!   read from their bytes, whatever the name says. Other files are left
//!   out and listed in [`Skipped`] as "not an image file". A class lists its
//!   images in `ImageFolder`'s order: by folder, then by name.
//! - Symbolic links are followed (to folders too, as `ImageFolder` does),
//!   but no folder is read twice: a link back to a folder above it (a loop),
//!   or to a folder read already, is listed in [`Skipped`].
//! - Held-out split (no train/ and test/): per class, `round(n × test_split)`
//!   of its `n` images go to the test split, at least one when `n ≥ 2` and
//!   `test_split > 0`, and never all of them. Which ones: the first of a
//!   shuffle of the class's images (in the order above) by a ChaCha8 stream
//!   seeded with `seed` and numbered by the class, so the split depends on
//!   the seed and the files alone. See [`split`].
//! - Channels: 1 (grey) or 3 (RGB), planar (`C×H×W` per image, rows
//!   row-major). Unless set, 3 when any image's colour type has colour (RGB,
//!   RGBA, palette, which decodes to RGB; GIF is always RGBA), else 1. Grey
//!   output is the image crate's luma (`to_luma8`: Rec. 709 weights where
//!   PIL's `convert('L')` uses Rec. 601; 16-bit samples scaled to 8 bits;
//!   alpha dropped, as PIL drops it); RGB output is `to_rgb8` (alpha
//!   dropped, as PIL's `convert('RGB')`).
//! - Size: unless set, the most common image size in the set (ties: the
//!   larger area, then the smaller height). An image of another size is
//!   resized to exactly that height and width, bilinear
//!   (`image::imageops::resize` with `FilterType::Triangle`, which widens
//!   the filter when shrinking, as PIL's resize does): the aspect ratio is
//!   not kept, as with torchvision's `Resize((h, w))`.
//! - Damaged, truncated or unreadable images (and named pipes, devices,
//!   dangling links named like images) are left out and listed in
//!   [`Skipped`]; with [`FolderOptions::strict`] they are refused instead.
//!   Each image is decoded within the limits of [`crate::image`]
//!   ([`MAX_SIDE`] per side, [`MAX_DECODED_BYTES`] decoded,
//!   [`MAX_FILE_BYTES`] read), so no single file can exhaust memory.
//! - Nothing is ever written into the folder.

mod decode;
mod header;
mod layout;
mod load;
mod scan;
pub mod split;
mod walk;

use std::path::PathBuf;

pub use load::load_folder;
pub use scan::scan_folder;

pub use super::{Split, MAX_CLASSES};
pub use crate::image::{MAX_DECODED_BYTES, MAX_FILE_BYTES, MAX_SIDE};
use crate::Error;

/// The most decoded bytes [`load_folder`] holds unless told otherwise: 4 GiB.
pub const MAX_FOLDER_BYTES: u64 = 4 << 30;
/// The image file names read (compared ignoring case).
pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "gif", "webp"];

/// How to read a folder of images; [`Default`] gives the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderOptions {
    /// 1 (grey) or 3 (RGB); `None`: 3 when any image has colour, else 1.
    pub channels: Option<usize>,
    /// (height, width) of every image; `None`: the most common size.
    pub size: Option<(usize, usize)>,
    /// The share of each class held out for testing, in [0, 1); used only
    /// when the folder has no train/ and test/. Default 0.1.
    pub test_split: f64,
    /// Seeds the held-out split. Default 0.
    pub seed: u64,
    /// Refuse a damaged or unreadable image instead of skipping it.
    pub strict: bool,
    /// The most decoded bytes (N×C×H×W) allowed, checked before decoding.
    /// Default [`MAX_FOLDER_BYTES`].
    pub max_bytes: u64,
}

impl Default for FolderOptions {
    fn default() -> Self {
        Self { channels: None, size: None, test_split: 0.1, seed: 0, strict: false, max_bytes: MAX_FOLDER_BYTES }
    }
}

/// A file or folder left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Where the test split comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// The folder's own train/ and test/ folders.
    Splits,
    /// Held out of one set of class folders, by seed.
    HeldOut { test_split: f64 },
}

/// One image found by the header pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub path: PathBuf,
    /// The label: an index into the class names.
    pub class: usize,
    pub split: Split,
    /// (height, width), from the header.
    pub size: (usize, usize),
    /// Whether the header's colour type has colour (RGB, RGBA, palette).
    pub is_colour: bool,
}

/// The header pass of a folder: its classes, files, splits and sizes,
/// without a pixel decoded. What `info --data DIR` prints and what
/// [`load_folder`] checks before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderScan {
    pub root: PathBuf,
    pub class_names: Vec<String>,
    pub layout: Layout,
    /// Every image found, by class, each class's in `ImageFolder`'s order.
    pub files: Vec<ImageFile>,
    /// Per class, its train and test image counts.
    pub counts: Vec<[usize; 2]>,
    /// ((height, width), images of that size), most common first.
    pub sizes: Vec<((usize, usize), usize)>,
    /// The output's channels, as set or detected.
    pub channels: usize,
    /// The output's (height, width), as set or detected.
    pub size: (usize, usize),
    /// N×C×H×W: the bytes of the decoded set.
    pub bytes: u64,
    pub skipped: Vec<Skipped>,
}

/// The decoded images of one split.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Images {
    /// N×C×H×W bytes: per image its channels one after another (planar),
    /// each a row-major H×W plane.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    /// Per image, its index in [`FolderData::files`].
    pub sources: Vec<usize>,
}

impl Images {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A folder read whole: the scan's findings and the two splits' pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderData {
    pub root: PathBuf,
    pub class_names: Vec<String>,
    pub layout: Layout,
    /// The scan's files; [`Images::sources`] index into it. Files that
    /// failed to decode stay here but are in neither split.
    pub files: Vec<ImageFile>,
    pub channels: usize,
    /// (height, width).
    pub size: (usize, usize),
    pub train: Images,
    pub test: Images,
    /// The scan's skipped files, then those that failed to decode.
    pub skipped: Vec<Skipped>,
}

/// Whether `name` ends in one of [`IMAGE_EXTENSIONS`], ignoring case.
pub fn is_image_name(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else { return false };
    let extension = &name[dot + 1..];
    IMAGE_EXTENSIONS.iter().any(|e| e.as_bytes().eq_ignore_ascii_case(extension))
}

/// The message of an error, without the path it names (a skipped file's
/// reason sits beside its path).
fn reason(e: Error) -> String {
    match e {
        Error::Data { message, .. } => message,
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}
