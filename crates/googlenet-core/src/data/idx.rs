//! The IDX format of MNIST: a big-endian header (magic, then one u32 per
//! dimension) followed by the raw bytes. Files may be gzip-compressed.
//!
//! Nothing is allocated from what a header claims before the data is there:
//! a raw file is read whole and its length checked against the header, and
//! a gzip file is decompressed only as far as its header announces (at most
//! [`MAX_IDX_DATA_BYTES`]), so a lying header or a gzip bomb fails early.

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Magic number of an unsigned-byte IDX file with three dimensions (grey images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an unsigned-byte IDX file with four dimensions: images
/// of N×H×W×C bytes, channels last (C is 1 or 3), as numpy holds images.
pub const COLOUR_IMAGES_MAGIC: u32 = 0x0000_0804;
/// Magic number of an unsigned-byte IDX file with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The most data an IDX file may announce: 4 GiB, far beyond any
/// MNIST-format data set (MNIST's training images are 47 MB).
pub const MAX_IDX_DATA_BYTES: u64 = 4 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Unsigned-byte IDX magic numbers are 0x000008NN with NN dimensions.
const UBYTE_MAGIC_PREFIX: [u8; 3] = [0, 0, 0x08];
/// The longest header: the magic and 255 dimensions.
const MAX_HEADER_BYTES: u64 = 4 + 4 * 255;
/// Deflate expands at most 1032:1, a bound on what compressed bytes can hold.
const MAX_DEFLATE_RATIO: usize = 1032;

/// Images of an IDX file: `count` images of `channels` planes of
/// `rows`×`cols` bytes, row-major (a colour file's channels-last bytes are
/// laid out as planes when it is read).
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub channels: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads a file whole, gunzipping it when it starts with the gzip magic
/// (whatever its name says); see [`decode_maybe_gzip`]. Files larger than
/// the largest IDX file allowed are refused unread.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = crate::files::read_regular(path, MAX_HEADER_BYTES + MAX_IDX_DATA_BYTES, "an IDX file")?;
    decode_maybe_gzip(raw, path)
}

/// The IDX file held in `bytes`: `bytes` itself, or when it starts with the
/// gzip magic, its decompressed content. Decompression reads the IDX header
/// first and stops one byte past the data it announces, so a gzip bomb or a
/// header claiming more than the stream holds fails without allocating more
/// than the header justifies. `path` only names the file in errors.
pub fn decode_maybe_gzip(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let damaged = |e: std::io::Error| Error::data(path, format!("damaged gzip data: {e}"));
    let mut gz = flate2::read::GzDecoder::new(bytes.as_slice());
    let mut out = Vec::new();
    (&mut gz).take(4).read_to_end(&mut out).map_err(damaged)?;
    if out.len() == 4 && out[..3] == UBYTE_MAGIC_PREFIX {
        (&mut gz).take(4 * u64::from(out[3])).read_to_end(&mut out).map_err(damaged)?;
    }
    let header = Header::read(&out, path)?;
    let total = header.len + header.data_bytes;
    // Room for the data and the one byte that would betray more, but never
    // more than the compressed bytes can expand to.
    out.reserve((total + 1).min(bytes.len().saturating_mul(MAX_DEFLATE_RATIO)).saturating_sub(out.len()));
    gz.take(header.data_bytes as u64 + 1).read_to_end(&mut out).map_err(damaged)?;
    if out.len() > total {
        return Err(Error::data(
            path,
            format!("unexpected bytes: the gzip data goes on after the {} bytes the header {:?} announces", header.data_bytes, header.dims),
        ));
    }
    Ok(out)
}

/// An unsigned-byte IDX header and the data size it announces.
struct Header {
    dims: Vec<usize>,
    /// Bytes of the header itself.
    len: usize,
    /// Bytes of data the dimensions announce (their product); the header
    /// and the data together fit a `usize`.
    data_bytes: usize,
}

impl Header {
    /// Reads the header at the start of `bytes` (which may hold just the
    /// header). Fails when `bytes` is too short for it, it is not an
    /// unsigned-byte IDX header, or it announces more than [`MAX_IDX_DATA_BYTES`].
    fn read(bytes: &[u8], path: &Path) -> Result<Self> {
        if bytes.len() < 4 {
            return Err(Error::data(path, format!("truncated: {} bytes, too short for an IDX header", bytes.len())));
        }
        if bytes[..3] != UBYTE_MAGIC_PREFIX {
            let found = be_u32(bytes, 0);
            return Err(Error::data(path, format!("wrong magic number 0x{found:08x}, expected an unsigned-byte IDX file (0x000008NN)")));
        }
        let ndim = usize::from(bytes[3]);
        let len = 4 + 4 * ndim;
        if bytes.len() < len {
            return Err(Error::data(path, format!("truncated: {} bytes, the IDX header needs {len}", bytes.len())));
        }
        let dims: Vec<usize> = (0..ndim).map(|i| be_u32(bytes, 4 + 4 * i) as usize).collect();
        // A zero anywhere makes the product 0, however large the others.
        let product = if dims.contains(&0) { Some(0) } else { dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64)) };
        let data_bytes = product.filter(|&n| n <= MAX_IDX_DATA_BYTES);
        let fits = |n: u64| usize::try_from(n + len as u64).is_ok().then_some(n as usize);
        let Some(data_bytes) = data_bytes.and_then(fits) else {
            return Err(Error::data(
                path,
                format!("header announces {dims:?}, more than the {} GiB of data an IDX file may hold", MAX_IDX_DATA_BYTES >> 30),
            ));
        };
        Ok(Self { dims, len, data_bytes })
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses the header of an IDX file with the expected magic and returns its
/// dimensions and the payload, which must hold exactly their product in bytes.
fn parse<'a>(bytes: &'a [u8], magics: &[u32], path: &Path) -> Result<(Vec<usize>, &'a [u8])> {
    if bytes.len() < 4 {
        return Err(Error::data(path, format!("truncated: {} bytes, too short for an IDX header", bytes.len())));
    }
    let found = be_u32(bytes, 0);
    if !magics.contains(&found) {
        let expected: Vec<String> = magics.iter().map(|m| format!("0x{m:08x}")).collect();
        return Err(Error::data(
            path,
            format!("wrong magic number 0x{found:08x}, expected {} (is this an IDX file of the right kind?)", expected.join(" or ")),
        ));
    }
    let Header { dims, len, data_bytes: expected } = Header::read(bytes, path)?;
    let payload = &bytes[len..];
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

/// Parses an image file: IDX3 (magic 0x00000803, N×H×W grey images) or
/// IDX4 (0x00000804, N×H×W×C with C = 1 or 3, channels last).
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages> {
    let (dims, payload) = parse(bytes, &[IMAGES_MAGIC, COLOUR_IMAGES_MAGIC], path)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(Error::data(path, format!("images of size {}x{} are empty", dims[1], dims[2])));
    }
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let Some(&channels) = dims.get(3) else {
        return Ok(IdxImages { count, channels: 1, rows, cols, pixels: payload.to_vec() });
    };
    if channels != 1 && channels != 3 {
        return Err(Error::data(path, format!("images with {channels} channels (the last of {dims:?}); IDX4 images have 1 or 3")));
    }
    Ok(IdxImages { count, channels, rows, cols, pixels: planar(payload, rows * cols, channels) })
}

/// Images of interleaved channels (H×W×C each) as planes (C×H×W each);
/// `plane` is H×W.
fn planar(interleaved: &[u8], plane: usize, channels: usize) -> Vec<u8> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let mut out = vec![0u8; interleaved.len()];
    for (image, planes) in interleaved.chunks_exact(plane * channels).zip(out.chunks_exact_mut(plane * channels)) {
        for (p, pixel) in image.chunks_exact(channels).enumerate() {
            pixel.iter().enumerate().for_each(|(c, &v)| planes[c * plane + p] = v);
        }
    }
    out
}

/// Parses an IDX1 label file (magic 0x00000801).
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let (_, payload) = parse(bytes, &[LABELS_MAGIC], path)?;
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

/// Encodes images as an IDX file (for tests and for users writing their
/// own data): IDX3 for grey images, IDX4 (channels last) for colour.
pub fn encode_images(images: &IdxImages) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + images.pixels.len());
    let grey = images.channels == 1;
    let magic = if grey { IMAGES_MAGIC } else { COLOUR_IMAGES_MAGIC };
    for v in [magic, images.count as u32, images.rows as u32, images.cols as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    if grey {
        out.extend_from_slice(&images.pixels);
        return out;
    }
    out.extend_from_slice(&(images.channels as u32).to_be_bytes());
    let plane = images.rows * images.cols;
    for planes in images.pixels.chunks_exact(plane * images.channels) {
        out.extend((0..plane).flat_map(|p| (0..images.channels).map(move |c| planes[c * plane + p])));
    }
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
