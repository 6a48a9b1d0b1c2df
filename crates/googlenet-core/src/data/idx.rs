//! The IDX format of MNIST: a big-endian header (magic, then one u32 per
//! dimension) followed by the raw bytes. Files may be gzip-compressed.

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Magic number of an unsigned-byte IDX file with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an unsigned-byte IDX file with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Images of an IDX3 file: `count` images of `rows`×`cols` bytes, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads a file whole, gunzipping it when it starts with the gzip magic
/// (whatever its name says).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let io_err = |source| Error::Io { path: path.to_path_buf(), source };
    let raw = std::fs::read(path).map_err(io_err)?;
    if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| Error::data(path, format!("damaged gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses the header of an IDX file with the expected magic and returns its
/// dimensions and the payload, which must hold exactly their product in bytes.
fn parse<'a>(bytes: &'a [u8], magic: u32, path: &Path) -> Result<(Vec<usize>, &'a [u8])> {
    let ndim = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndim;
    let be_u32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    if bytes.len() < 4 {
        return Err(Error::data(path, format!("truncated: {} bytes, too short for an IDX header", bytes.len())));
    }
    let found = be_u32(0);
    if found != magic {
        return Err(Error::data(
            path,
            format!("wrong magic number 0x{found:08x}, expected 0x{magic:08x} (is this an IDX file of the right kind?)"),
        ));
    }
    if bytes.len() < header_len {
        return Err(Error::data(path, format!("truncated: {} bytes, the IDX header needs {header_len}", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndim).map(|i| be_u32(4 + 4 * i) as usize).collect();
    let expected = dims.iter().product::<usize>();
    let payload = &bytes[header_len..];
    if payload.len() < expected {
        return Err(Error::data(
            path,
            format!("truncated: header announces {dims:?} = {expected} bytes of data, file holds {}", payload.len()),
        ));
    }
    if payload.len() > expected {
        return Err(Error::data(
            path,
            format!("{} unexpected bytes after the {expected} bytes the header {dims:?} announces", payload.len() - expected),
        ));
    }
    Ok((dims, payload))
}

/// Parses an IDX3 image file (magic 0x00000803).
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages> {
    let (dims, payload) = parse(bytes, IMAGES_MAGIC, path)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(Error::data(path, format!("images of size {}x{} are empty", dims[1], dims[2])));
    }
    Ok(IdxImages { count: dims[0], rows: dims[1], cols: dims[2], pixels: payload.to_vec() })
}

/// Parses an IDX1 label file (magic 0x00000801).
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let (_, payload) = parse(bytes, LABELS_MAGIC, path)?;
    Ok(payload.to_vec())
}

/// Reads and parses an image file, raw or gzip.
pub fn read_images(path: &Path) -> Result<IdxImages> {
    parse_images(&read_maybe_gzip(path)?, path)
}

/// Reads and parses a label file, raw or gzip.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    parse_labels(&read_maybe_gzip(path)?, path)
}

/// Encodes images as an IDX3 file (for tests and for users writing their own data).
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + images.pixels.len());
    for v in [IMAGES_MAGIC, images.count as u32, images.rows as u32, images.cols as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&images.pixels);
    out
}

/// Encodes labels as an IDX1 file.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}
