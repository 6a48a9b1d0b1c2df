//! IDX headers that claim more than the file holds fail before anything
//! that size is allocated, raw or gzip, and a gzip bomb is decompressed only
//! as far as its header announces.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

use crate::common::temp_dir;
use googlenet_core::data::idx::{decode_maybe_gzip, parse_images, parse_labels, read_images, read_labels, IMAGES_MAGIC, LABELS_MAGIC};
use googlenet_core::Error;

/// Records the largest single allocation each thread asks for, so a test
/// sees what its own call allocated even while other tests run.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // try_with: allocations while the thread's locals are torn down go unrecorded.
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every call is passed on unchanged to the system allocator, which
// upholds GlobalAlloc's contract; `note` allocates nothing.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's guarantees for `layout` are System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` came from System through this allocator, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from System through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// `f`'s result and the largest single allocation it made.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|largest| largest.set(0));
    let result = f();
    (result, LARGEST.with(Cell::get))
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    std::iter::once(magic).chain(dims.iter().copied()).flat_map(u32::to_be_bytes).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `header` followed by `zeros` zero bytes, gzipped a chunk at a time.
fn gzip_bomb(header: &[u8], zeros: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(header).unwrap();
    let chunk = vec![0u8; MIB];
    for _ in 0..zeros / MIB {
        encoder.write_all(&chunk).unwrap();
    }
    encoder.finish().unwrap()
}

fn data_error<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(e @ Error::Data { .. }) => e.to_string(),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn a_16_byte_header_claiming_mnist_fails_without_allocating() {
    let dir = temp_dir("idx-limits-claim");
    let claim = header(IMAGES_MAGIC, &[60_000, 28, 28]);
    assert_eq!(claim.len(), 16);
    for (name, bytes) in [("raw", claim.clone()), ("gz", gzip(&claim))] {
        let path = dir.join(format!("train-images-idx3-ubyte.{name}"));
        std::fs::write(&path, &bytes).unwrap();
        let (result, largest) = largest_allocation(|| read_images(&path));
        let message = data_error(result);
        assert!(message.contains("truncated") && message.contains("47040000"), "{message}");
        // The decoder's own state (window, buffers) is the largest thing allocated.
        assert!(largest < 256 * KIB, "{name}: allocated {largest} bytes");
    }
}

#[test]
fn a_gzip_bomb_is_read_only_as_far_as_its_header_announces() {
    // 10 labels announced, then a gigabyte of zeros.
    let bomb = gzip_bomb(&header(LABELS_MAGIC, &[10]), 1024 * MIB);
    assert!(bomb.len() < 8 * MIB, "{}", bomb.len());
    let (result, largest) = largest_allocation(|| decode_maybe_gzip(bomb, Path::new("bomb.gz")));
    let message = data_error(result);
    assert!(message.contains("unexpected bytes") && message.contains("10 bytes"), "{message}");
    assert!(largest < 256 * KIB, "allocated {largest} bytes");

    // 16 MiB of pixels announced, 64 MiB there: never more than the announced size.
    let bomb = gzip_bomb(&header(IMAGES_MAGIC, &[1, 4096, 4096]), 64 * MIB);
    let (result, largest) = largest_allocation(|| decode_maybe_gzip(bomb, Path::new("bomb.gz")));
    assert!(data_error(result).contains("unexpected bytes"));
    assert!(largest <= 16 * MIB + KIB, "allocated {largest} bytes");
}

#[test]
fn dimensions_beyond_4_gib_or_usize_are_refused() {
    let path = Path::new("huge");
    let too_much = |result| {
        let message = data_error(result);
        assert!(message.contains("more than the 4 GiB"), "{message}");
    };
    for claim in [header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]), header(IMAGES_MAGIC, &[65_536, 65_536, 2])] {
        for bytes in [claim.clone(), gzip(&claim)] {
            let (result, largest) = largest_allocation(|| decode_maybe_gzip(bytes, path).and_then(|b| parse_images(&b, path)));
            too_much(result.map(|_| ()));
            assert!(largest < 256 * KIB, "allocated {largest} bytes");
        }
    }
    // The widest header there is, before its kind is even known.
    too_much(decode_maybe_gzip(gzip(&header(0x0000_08ff, &[u32::MAX; 255])), path).map(|_| ()));
    assert!(data_error(parse_labels(&header(LABELS_MAGIC, &[u32::MAX]), path)).contains("truncated"));
}

#[test]
fn files_at_the_limits_still_read() {
    let dir = temp_dir("idx-limits-ok");
    let labels: Vec<u8> = (0..10).collect();
    let file = [header(LABELS_MAGIC, &[10]), labels.clone()].concat();
    let path = dir.join("labels.gz");
    std::fs::write(&path, gzip(&file)).unwrap();
    assert_eq!(read_labels(&path).unwrap(), labels);
    // No images at all is a valid (empty) file, whatever their size.
    let empty = parse_images(&header(IMAGES_MAGIC, &[0, 28, 28]), path.as_path()).unwrap();
    assert_eq!((empty.count, empty.pixels.len()), (0, 0));
    let empty = parse_images(&header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, 0]), path.as_path());
    assert!(data_error(empty).contains("are empty"));
}
