//! Data sets from folders of labelled images (`data::folder`): the layout
//! (classes sorted and labelled, train/ and test/, the seeded stratified
//! hold-out), channels and size detected or set, the resize rule, the planar
//! layout pixel for pixel, every format and colour mode, and hostile
//! folders (empty, loose images, one class, damaged files, links that loop,
//! pipes, unreadable files, odd names, too many bytes, many files). Every
//! folder is made here, in a temp dir, with the image crate's encoders.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use googlenet_core::data::folder::{
    load_folder, scan_folder, split::held_out_count, FolderData, FolderOptions, FolderScan, Layout, Split, MAX_FOLDER_BYTES,
};
use googlenet_core::Error;
use image::imageops::{resize, FilterType};
use image::{GrayImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, RgbImage, Rgba};

use crate::common::temp_dir;

/// A temp folder, removed (permissions restored first) when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Self {
        Folder(temp_dir(&format!("folders-{name}")))
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    /// Writes `bytes` at `relative`, creating its folders.
    fn write(&self, relative: impl AsRef<Path>, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn mkdir(&self, relative: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(&path).unwrap();
        path
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chmod").args(["-R", "u+rwx"]).arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `image` encoded as `format`.
fn encode<P, C>(image: &ImageBuffer<P, C>, format: ImageFormat) -> Vec<u8>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A grey PNG of `height`×`width`, every pixel `value`.
fn grey_png(height: u32, width: u32, value: u8) -> Vec<u8> {
    encode(&GrayImage::from_pixel(width, height, Luma([value])), ImageFormat::Png)
}

/// An RGB PNG of `height`×`width`, every pixel `rgb`.
fn rgb_png(height: u32, width: u32, rgb: [u8; 3]) -> Vec<u8> {
    encode(&RgbImage::from_pixel(width, height, Rgb(rgb)), ImageFormat::Png)
}

/// An RGB image whose every pixel differs, channel by channel.
fn pattern(height: u32, width: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(10 * x + y) as u8, (100 + 7 * y + x) as u8, (250 - 3 * x - 5 * y) as u8]))
}

/// Appends a PNG chunk: length, type, data, CRC.
fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A PNG made by hand: its header says `width`×`height`, 8 bits of colour
/// type `colour`, and `rows` holds its data (each row's filter byte first).
fn png_by_hand(width: u32, height: u32, colour: u8, bits: u8, palette: Option<&[[u8; 3]]>, rows: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([bits, colour, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &header);
    if let Some(palette) = palette {
        png_chunk(&mut out, b"PLTE", palette.concat().as_slice());
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, rows).unwrap();
    png_chunk(&mut out, b"IDAT", &z.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A PNG with a palette (colour type 3, 8 bits): the image crate's encoder
/// writes none.
fn palette_png(height: u32, width: u32, palette: &[[u8; 3]], index: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let mut rows = Vec::new();
    for y in 0..height {
        rows.push(0);
        rows.extend((0..width).map(|x| index(x, y)));
    }
    png_by_hand(width, height, 3, 8, Some(palette), &rows)
}

fn quiet(_: usize, _: usize) {}

fn load(root: &Path, options: &FolderOptions) -> FolderData {
    load_folder(root, options, &quiet).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
}

fn scan(root: &Path, options: &FolderOptions) -> FolderScan {
    scan_folder(root, options).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
}

/// All in the training split.
fn no_hold_out() -> FolderOptions {
    FolderOptions { test_split: 0.0, ..FolderOptions::default() }
}

/// The data error of `result`: its path and message.
fn data_error<T: std::fmt::Debug>(result: Result<T, Error>) -> (PathBuf, String) {
    match result {
        Err(Error::Data { path, message }) => (path, message),
        other => panic!("expected a data error, got {other:?}"),
    }
}

/// The reason `path` was skipped, if it was.
fn skip_reason(skipped: &[googlenet_core::data::folder::Skipped], path: &Path) -> Option<String> {
    skipped.iter().find(|s| s.path == path).map(|s| s.reason.clone())
}

/// The file names of a split's images, as `class/name`.
fn names(data: &FolderData, split: Split) -> Vec<String> {
    let images = if split == Split::Train { &data.train } else { &data.test };
    images.sources.iter().map(|&i| data.files[i].path.strip_prefix(&data.root).unwrap().to_string_lossy().into_owned()).collect()
}

/// Runs `work` on a thread; fails the test if it takes more than 60 s
/// (a read that blocks must fail the test, not hang it).
fn within_time<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(work()));
    result.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{what} hung"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn classes_are_sorted_by_name_and_labelled_by_index() {
    let dir = Folder::new("sorted");
    let names = ["b", "a", "C", "été", "a b", "10", "9", "chat noir"];
    for (i, name) in names.iter().enumerate() {
        dir.write(format!("{name}/one.png"), &grey_png(4, 4, i as u8));
        dir.write(format!("{name}/deeper/two.PNG"), &grey_png(4, 4, i as u8));
    }
    let data = load(&dir.0, &no_hold_out());
    // Byte order, as Python's sorted() on the names.
    assert_eq!(data.class_names, ["10", "9", "C", "a", "a b", "b", "chat noir", "été"]);
    assert_eq!(data.layout, Layout::HeldOut { test_split: 0.0 });
    assert_eq!(data.train.len(), 16);
    assert!(data.test.is_empty());
    for (k, &i) in data.train.sources.iter().enumerate() {
        let file = &data.files[i];
        let class = file.path.strip_prefix(&data.root).unwrap().components().next().unwrap().as_os_str().to_str().unwrap();
        assert_eq!(data.class_names[data.train.labels[k] as usize], class, "{}", file.path.display());
        // Each class's pixel value is its position in `names`: the image is its own.
        let written = names.iter().position(|n| *n == class).unwrap() as u8;
        assert!(data.train.pixels[k * 16..(k + 1) * 16].iter().all(|&p| p == written));
    }
    assert_eq!(data.train.labels, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
}

#[test]
fn a_class_lists_its_images_in_image_folders_order() {
    let dir = Folder::new("order");
    for name in ["a/z.png", "a/sub/b.png", "a/sub b/x.png", "a/a.png", "a/sub/a.jpeg", "b/1.png", "b/0.png"] {
        dir.write(name, &grey_png(2, 2, 0));
    }
    let data = load(&dir.0, &no_hold_out());
    // os.walk's folders sorted by path ("a" < "a/sub" < "a/sub b"), then names.
    assert_eq!(names(&data, Split::Train), ["a/a.png", "a/z.png", "a/sub/a.jpeg", "a/sub/b.png", "a/sub b/x.png", "b/0.png", "b/1.png"]);
}

#[test]
fn train_and_test_folders_are_the_splits() {
    let dir = Folder::new("splits");
    for (split, counts) in [("train", [3, 2]), ("test", [1, 2])] {
        for (class, count) in ["cat", "dog"].iter().zip(counts) {
            for i in 0..count {
                let value = if split == "train" { 10 } else { 200 };
                dir.write(format!("{split}/{class}/{i}.png"), &grey_png(3, 3, value));
            }
        }
    }
    dir.write("notes.txt", b"hello");
    dir.mkdir("val/cat");
    let options = FolderOptions { test_split: 0.5, seed: 3, ..FolderOptions::default() };
    let data = load(&dir.0, &options);
    assert_eq!(data.layout, Layout::Splits, "test_split is not used with train/ and test/");
    assert_eq!(data.class_names, ["cat", "dog"]);
    assert_eq!(names(&data, Split::Train), ["train/cat/0.png", "train/cat/1.png", "train/cat/2.png", "train/dog/0.png", "train/dog/1.png"]);
    assert_eq!(names(&data, Split::Test), ["test/cat/0.png", "test/dog/0.png", "test/dog/1.png"]);
    assert_eq!(data.train.labels, [0, 0, 0, 1, 1]);
    assert_eq!(data.test.labels, [0, 1, 1]);
    assert!(data.train.pixels.iter().all(|&p| p == 10) && data.test.pixels.iter().all(|&p| p == 200));
    assert_eq!(scan(&dir.0, &options).counts, [[3, 1], [2, 2]]);
    assert_eq!(skip_reason(&data.skipped, &dir.path("notes.txt")).as_deref(), Some("not an image file"));
    assert!(skip_reason(&data.skipped, &dir.path("val")).unwrap().contains("only they are read"));
}

#[test]
fn train_and_test_must_hold_the_same_classes() {
    let dir = Folder::new("split-classes");
    for name in ["train/cat/0.png", "train/dog/0.png", "train/emu/0.png", "test/cat/0.png", "test/dog/0.png"] {
        dir.write(name, &grey_png(2, 2, 0));
    }
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.path("test"));
    assert!(message.contains("\"emu\"") && message.contains("train/"), "{message}");
    dir.write("test/emu/0.png", &grey_png(2, 2, 0));
    dir.write("test/fox/0.png", &grey_png(2, 2, 0));
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.path("train"));
    assert!(message.contains("\"fox\"") && message.contains("test/"), "{message}");
}

/// Three classes of 10, 20 and 7 distinct images.
fn three_classes(name: &str) -> Folder {
    let dir = Folder::new(name);
    for (class, count) in [("a", 10), ("b", 20), ("c", 7)] {
        for i in 0..count {
            dir.write(format!("{class}/{i:02}.png"), &grey_png(2, 2, i));
        }
    }
    dir
}

#[test]
fn the_hold_out_is_stratified_and_seeded() {
    let dir = three_classes("hold-out");
    let options = |seed| FolderOptions { test_split: 0.2, seed, ..FolderOptions::default() };
    let a = load(&dir.0, &options(1));
    // round(10 × 0.2) = 2, round(20 × 0.2) = 4, round(7 × 0.2) = 1.
    assert_eq!(scan(&dir.0, &options(1)).counts, [[8, 2], [16, 4], [6, 1]]);
    assert_eq!(a.test.labels, [0, 0, 1, 1, 1, 1, 2]);
    assert_eq!(a.train.len() + a.test.len(), 37);
    let mut all = names(&a, Split::Train);
    all.extend(names(&a, Split::Test));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 37, "every image in exactly one split");
    // The same seed, on one thread or several: the same split.
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let again = one_thread.install(|| load(&dir.0, &options(1)));
    assert_eq!(names(&again, Split::Test), names(&a, Split::Test));
    assert_eq!(again.test.pixels, a.test.pixels);
    // Another seed: another split, of the same sizes.
    let b = load(&dir.0, &options(2));
    assert_ne!(names(&b, Split::Test), names(&a, Split::Test));
    assert_eq!(b.test.labels, a.test.labels);
    // The rule's edges: at least one, never all, none at 0.
    assert_eq!([held_out_count(2, 0.01), held_out_count(3, 0.99), held_out_count(5, 0.0), held_out_count(1, 0.5)], [1, 2, 0, 0]);
    assert!(load(&dir.0, &no_hold_out()).test.is_empty());
}

#[test]
fn the_test_split_must_be_a_share() {
    let dir = three_classes("share");
    for test_split in [1.0, -0.1, f64::NAN] {
        let result = scan_folder(&dir.0, &FolderOptions { test_split, ..FolderOptions::default() });
        assert!(matches!(result, Err(Error::InvalidOption(ref e)) if e.option == "testSplit"), "{test_split}: {result:?}");
    }
}

#[test]
fn channels_are_detected_and_can_be_set() {
    let dir = Folder::new("channels");
    dir.write("a/0.png", &grey_png(2, 2, 1));
    dir.write("b/0.png", &encode(&ImageBuffer::from_pixel(2, 2, LumaA([9u8, 0])), ImageFormat::Png));
    assert_eq!(scan(&dir.0, &no_hold_out()).channels, 1, "grey and grey+alpha are grey");
    dir.write("b/1.png", &rgb_png(2, 2, [30, 60, 90]));
    assert_eq!(scan(&dir.0, &no_hold_out()).channels, 3, "one colour image makes it colour");
    let grey = load(&dir.0, &FolderOptions { channels: Some(1), ..no_hold_out() });
    assert_eq!(grey.channels, 1);
    assert_eq!(grey.train.pixels.len(), 3 * 4);
    // to_luma8 of (30, 60, 90): Rec. 709 weights.
    let luma = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([30, 60, 90]))).to_luma8().into_raw()[0];
    assert_eq!(&grey.train.pixels[8..], [luma; 4]);
    let colour = load(&dir.0, &no_hold_out());
    assert_eq!(&colour.train.pixels[..12], [1u8; 12], "grey spread over three planes");
    assert_eq!(&colour.train.pixels[24..], [30, 30, 30, 30, 60, 60, 60, 60, 90, 90, 90, 90]);
    let result = scan_folder(&dir.0, &FolderOptions { channels: Some(2), ..FolderOptions::default() });
    assert!(matches!(result, Err(Error::InvalidOption(ref e)) if e.option == "channels" && e.rule == "must be 1 or 3"), "{result:?}");
}

#[test]
fn size_is_the_most_common_and_can_be_set() {
    let dir = Folder::new("sizes");
    for (i, (h, w)) in [(4, 5), (6, 6), (4, 5), (6, 6), (4, 5), (1, 40)].into_iter().enumerate() {
        dir.write(format!("{}/{i}.png", ["a", "b"][i % 2]), &grey_png(h, w, 7));
    }
    let found = scan(&dir.0, &no_hold_out());
    assert_eq!(found.sizes, [((4, 5), 3), ((6, 6), 2), ((1, 40), 1)]);
    assert_eq!(found.size, (4, 5));
    assert_eq!(found.bytes, 6 * 4 * 5);
    // A tie: the larger area wins (1×40 over 6×6 at two each), then the smaller height.
    dir.write("a/6.png", &grey_png(1, 40, 7));
    dir.write("a/7.png", &grey_png(5, 4, 7));
    dir.write("b/8.png", &grey_png(5, 4, 7));
    let tied = scan(&dir.0, &no_hold_out());
    assert_eq!(tied.sizes, [((4, 5), 3), ((1, 40), 2), ((6, 6), 2), ((5, 4), 2)]);
    dir.write("b/9.png", &grey_png(5, 4, 7));
    assert_eq!(scan(&dir.0, &no_hold_out()).size, (4, 5), "4×5 and 5×4 tie on area: the smaller height");
    let set = load(&dir.0, &FolderOptions { size: Some((3, 2)), ..no_hold_out() });
    assert_eq!(set.size, (3, 2));
    assert_eq!(set.train.pixels, vec![7; 10 * 6], "every image resized to 3×2");
    for size in [(0, 4), (4, 100_000)] {
        let result = scan_folder(&dir.0, &FolderOptions { size: Some(size), ..FolderOptions::default() });
        assert!(matches!(result, Err(Error::InvalidOption(ref e)) if e.option == "height" || e.option == "width"), "{result:?}");
    }
}

#[test]
fn other_sizes_are_resized_bilinear_to_exactly_the_size() {
    let dir = Folder::new("resize");
    let big = pattern(12, 7);
    let small = pattern(2, 9);
    dir.write("a/big.png", &encode(&big, ImageFormat::Png));
    dir.write("b/small.png", &encode(&small, ImageFormat::Png));
    dir.write("b/target.png", &encode(&pattern(5, 4), ImageFormat::Png));
    let data = load(&dir.0, &FolderOptions { size: Some((5, 4)), ..no_hold_out() });
    assert_eq!(data.size, (5, 4));
    let planar = |image: &RgbImage| (0..3).flat_map(|c| image.pixels().map(move |p| p.0[c])).collect::<Vec<u8>>();
    // Aspect not kept: each side scaled on its own, with the triangle (bilinear) filter.
    let expected_big = planar(&resize(&big, 4, 5, FilterType::Triangle));
    let expected_small = planar(&resize(&small, 4, 5, FilterType::Triangle));
    assert_ne!(expected_big, planar(&resize(&big, 4, 5, FilterType::Nearest)), "the check can tell the filters apart");
    assert_eq!(&data.train.pixels[..60], expected_big.as_slice());
    assert_eq!(&data.train.pixels[60..120], expected_small.as_slice());
    assert_eq!(&data.train.pixels[120..], planar(&pattern(5, 4)).as_slice(), "the right size is not resampled");
}

#[test]
fn pixels_are_planar_channels_then_rows() {
    let dir = Folder::new("planar");
    // 2 rows × 3 columns, every channel value distinct.
    let rgb = RgbImage::from_fn(3, 2, |x, y| Rgb([1 + x as u8 + 3 * y as u8, 11 + x as u8 + 3 * y as u8, 21 + x as u8 + 3 * y as u8]));
    dir.write("a/rgb.png", &encode(&rgb, ImageFormat::Png));
    let rgba = ImageBuffer::from_fn(3, 2, |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        Rgba([r, g, b, (x * 100) as u8])
    });
    dir.write("b/rgba.png", &encode(&rgba, ImageFormat::Png));
    let data = load(&dir.0, &no_hold_out());
    let expected = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25, 26];
    assert_eq!(&data.train.pixels[..18], expected, "R plane, G plane, B plane, each row by row");
    assert_eq!(&data.train.pixels[18..], expected, "alpha dropped, not composited");
    assert_eq!((data.channels, data.size), (3, (2, 3)));
}

#[test]
fn every_format_and_colour_mode_decodes() {
    let dir = Folder::new("formats");
    let (h, w) = (8, 8);
    let colour = RgbImage::from_pixel(w, h, Rgb([200, 40, 90]));
    let grey = GrayImage::from_pixel(w, h, Luma([120]));
    let files: Vec<(&str, Vec<u8>, bool)> = vec![
        ("png-grey.png", encode(&grey, ImageFormat::Png), false),
        ("png-grey-alpha.png", encode(&ImageBuffer::from_pixel(w, h, LumaA([120u8, 30])), ImageFormat::Png), false),
        ("png-grey-16.png", encode(&ImageBuffer::from_pixel(w, h, Luma([120u16 * 257])), ImageFormat::Png), false),
        ("png-rgb.png", encode(&colour, ImageFormat::Png), true),
        ("png-rgba.png", encode(&ImageBuffer::from_pixel(w, h, Rgba([200u8, 40, 90, 0])), ImageFormat::Png), true),
        ("png-rgb-16.png", encode(&ImageBuffer::from_pixel(w, h, Rgb([200u16 * 257, 40 * 257, 90 * 257])), ImageFormat::Png), true),
        ("png-palette.png", palette_png(h, w, &[[0, 0, 0], [200, 40, 90]], |_, _| 1), true),
        ("jpeg-rgb.jpg", encode(&colour, ImageFormat::Jpeg), true),
        ("jpeg-grey.JPEG", encode(&grey, ImageFormat::Jpeg), false),
        ("bmp-rgb.bmp", encode(&colour, ImageFormat::Bmp), true),
        ("gif.gif", encode(&ImageBuffer::from_pixel(w, h, Rgba([200u8, 40, 90, 255])), ImageFormat::Gif), true),
        ("webp.webp", encode(&ImageBuffer::from_pixel(w, h, Rgba([200u8, 40, 90, 255])), ImageFormat::WebP), true),
        // The format is read from the bytes, not the name.
        ("png-named-jpeg.jpg", encode(&colour, ImageFormat::Png), true),
    ];
    for (name, bytes, _) in &files {
        dir.write(format!("images/{name}"), bytes);
    }
    dir.write("other/0.png", &encode(&colour, ImageFormat::Png));
    let found = scan(&dir.0, &no_hold_out());
    for (name, _, is_colour) in &files {
        let file = found.files.iter().find(|f| f.path == dir.path(&format!("images/{name}"))).unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!(file.is_colour, *is_colour, "{name}");
        assert_eq!(file.size, (8, 8), "{name}");
    }
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let data = load(&dir.0, &no_hold_out());
    assert!(data.skipped.is_empty(), "{:?}", data.skipped);
    assert_eq!(data.channels, 3);
    let by_name = |name: &str| {
        let k = data.train.sources.iter().position(|&i| data.files[i].path.ends_with(name)).unwrap();
        &data.train.pixels[k * 192..(k + 1) * 192]
    };
    for (name, _, is_colour) in &files {
        let expected: [u8; 3] = if *is_colour { [200, 40, 90] } else { [120; 3] };
        let tolerance = if name.starts_with("jpeg") { 3 } else { 0 };
        let pixels = by_name(name);
        for (c, plane) in pixels.chunks(64).enumerate() {
            assert!(plane.iter().all(|&p| p.abs_diff(expected[c]) <= tolerance), "{name}, channel {c}: {plane:?}");
        }
    }
}

#[test]
fn sixteen_bit_samples_are_scaled_to_eight_bits() {
    let dir = Folder::new("sixteen");
    let ramp = ImageBuffer::from_fn(4, 1, |x, _| Luma([[0u16, 257, 32896, 65535][x as usize]]));
    dir.write("a/ramp.png", &encode(&ramp, ImageFormat::Png));
    dir.write("b/0.png", &grey_png(1, 4, 0));
    let data = load(&dir.0, &no_hold_out());
    assert_eq!((data.channels, &data.train.pixels[..4]), (1, [0, 1, 128, 255].as_slice()));
}

// The hostile folders.

#[test]
fn a_missing_root_or_a_file_is_refused() {
    let dir = Folder::new("root");
    let missing = dir.path("nothing-here");
    let (path, message) = data_error(scan_folder(&missing, &FolderOptions::default()));
    assert_eq!((path, message.as_str()), (missing, "folder not found"));
    let file = dir.write("a.png", &grey_png(2, 2, 0));
    let (path, message) = data_error(load_folder(&file, &FolderOptions::default(), &quiet));
    assert_eq!(path, file);
    assert!(message.starts_with("not a folder"), "{message}");
}

#[test]
fn an_empty_root_or_loose_images_are_refused() {
    let dir = Folder::new("empty");
    dir.write(".DS_Store", b"junk");
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.0);
    assert!(message.contains("holds no class folders"), "{message}");
    dir.write("0.png", &grey_png(2, 2, 0));
    dir.write("1.jpg", &grey_png(2, 2, 0));
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.0);
    assert!(message.contains("2 images but no class folders") && message.contains("put images in one sub-folder per class"), "{message}");
    // Beside class folders, loose images are left out and listed.
    dir.write("a/0.png", &grey_png(2, 2, 0));
    dir.write("b/0.png", &grey_png(2, 2, 0));
    let found = scan(&dir.0, &FolderOptions::default());
    assert_eq!(skip_reason(&found.skipped, &dir.path("0.png")).as_deref(), Some("not in a class folder"));
    assert_eq!(found.files.len(), 2);
}

#[test]
fn a_single_class_is_refused() {
    let dir = Folder::new("single");
    dir.write("only/0.png", &grey_png(2, 2, 0));
    dir.write("only/1.png", &grey_png(2, 2, 0));
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.0);
    assert!(message.contains("needs at least two classes") && message.contains("\"only\""), "{message}");
}

#[test]
fn a_class_without_images_is_refused_by_name() {
    let dir = Folder::new("imageless");
    dir.write("a/0.png", &grey_png(2, 2, 0));
    dir.write("b/readme.txt", b"no images here");
    dir.mkdir("b/empty-sub");
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.path("b"));
    assert!(message.contains("no readable images") && message.contains("readme.txt: not an image file"), "{message}");
    // Images that are all damaged leave the class as empty.
    dir.write("b/0.png", b"not a png");
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.path("b"));
    assert!(message.contains("cannot be learned"), "{message}");
}

#[test]
fn more_than_256_classes_are_refused() {
    let dir = Folder::new("classes-257");
    let source = dir.write(".source.png", &grey_png(1, 1, 0));
    for i in 0..257 {
        std::fs::hard_link(&source, dir.mkdir(&format!("{i:03}")).join("0.png")).unwrap();
    }
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.0);
    assert!(message.contains("257 class folders") && message.contains("at most 256"), "{message}");
    std::fs::remove_dir_all(dir.path("256")).unwrap();
    let data = load(&dir.0, &no_hold_out());
    assert_eq!((data.class_names.len(), data.train.labels[255]), (256, 255));
}

/// A 64×64 noise PNG (it compresses badly, so its data is long).
fn noise_png() -> Vec<u8> {
    let mut state = 12345u32;
    let noise = RgbImage::from_fn(64, 64, |_, _| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let [a, b, c, _] = state.to_le_bytes();
        Rgb([a, b, c])
    });
    encode(&noise, ImageFormat::Png)
}

/// A folder with one good image per class and damaged ones in class `a`.
fn damaged_folder(name: &str) -> (Folder, Vec<(PathBuf, &'static str)>) {
    let dir = Folder::new(name);
    let good = noise_png();
    dir.write("a/good.png", &good);
    dir.write("b/good.png", &good);
    let damaged = vec![
        (dir.write("a/empty.png", b""), "empty file"),
        (dir.write("a/header-cut.png", &good[..20]), "damaged image"),
        (dir.write("a/text.png", b"just some text, named like an image"), "not an image"),
        (dir.write("a/garbage.jpg", &[0xff, 0xd8, 0xff, 0x00, 1, 2, 3, 4, 5, 6]), "damaged image"),
        (dir.write("a/tiff.webp", b"II*\0\x08\0\0\0\0\0\0\0"), "only PNG, JPEG, BMP, GIF and WebP"),
        // Headers claiming more than an image may be: refused before any pixel.
        (dir.write("a/huge.png", &png_by_hand(100_000, 100_000, 0, 8, None, &[0; 64])), "image too large"),
        (dir.write("a/deep.png", &png_by_hand(8192, 8192, 6, 16, None, &[0; 64])), "image too large"),
    ];
    (dir, damaged)
}

#[test]
fn damaged_files_are_skipped_and_listed_or_refused_when_strict() {
    let (dir, damaged) = damaged_folder("damaged");
    let data = load(&dir.0, &no_hold_out());
    assert_eq!(names(&data, Split::Train), ["a/good.png", "b/good.png"]);
    for (path, words) in &damaged {
        let reason = skip_reason(&data.skipped, path).unwrap_or_else(|| panic!("{} not listed", path.display()));
        assert!(reason.contains(words), "{}: {reason}", path.display());
    }
    let strict = FolderOptions { strict: true, ..no_hold_out() };
    let (path, message) = data_error(load_folder(&dir.0, &strict, &quiet));
    assert!(damaged.iter().any(|(p, words)| *p == path && message.contains(words)), "{}: {message}", path.display());
}

#[test]
fn a_file_damaged_past_its_header_is_skipped_when_decoded() {
    let dir = Folder::new("truncated");
    let good = noise_png();
    dir.write("a/good.png", &good);
    dir.write("b/good.png", &good);
    let cut = dir.write("a/cut.png", &good[..good.len() * 3 / 5]);
    let found = scan(&dir.0, &no_hold_out());
    assert_eq!(found.files.len(), 3, "the header reads: {:?}", found.skipped);
    let data = load(&dir.0, &no_hold_out());
    assert!(skip_reason(&data.skipped, &cut).unwrap().contains("damaged image"), "{:?}", data.skipped);
    assert_eq!(names(&data, Split::Train), ["a/good.png", "b/good.png"]);
    assert_eq!(data.train.pixels.len(), 2 * 3 * 64 * 64);
    assert_eq!(data.train.pixels[..3 * 64 * 64], data.train.pixels[3 * 64 * 64..], "the images after it moved down");
    assert_eq!(data.files.len(), 3, "the file stays listed, in neither split");
    let (path, message) = data_error(load_folder(&dir.0, &FolderOptions { strict: true, ..no_hold_out() }, &quiet));
    assert_eq!(path, cut);
    assert!(message.contains("damaged image"), "{message}");
}

#[test]
fn other_files_are_listed_and_hidden_ones_ignored() {
    let dir = Folder::new("other-files");
    dir.write("a/0.png", &grey_png(2, 2, 0));
    dir.write("b/0.png", &grey_png(2, 2, 0));
    let notes = dir.write("a/notes.txt", b"text");
    let no_extension = dir.write("b/png", &grey_png(2, 2, 0));
    let tiff = dir.write("b/scan.tiff", b"II*\0");
    dir.write("a/.DS_Store", b"junk");
    dir.write("b/._0.png", b"AppleDouble junk");
    dir.write(".hidden-class/0.png", &grey_png(2, 2, 0));
    dir.write("a/.ipynb_checkpoints/0.png", &grey_png(2, 2, 0));
    // Not refused when strict: these are not images.
    let data = load(&dir.0, &FolderOptions { strict: true, ..no_hold_out() });
    assert_eq!(data.class_names, ["a", "b"]);
    assert_eq!(names(&data, Split::Train), ["a/0.png", "b/0.png"]);
    let mut listed: Vec<_> = data.skipped.iter().map(|s| (s.path.clone(), s.reason.as_str())).collect();
    listed.sort();
    assert_eq!(listed, [(notes, "not an image file"), (no_extension, "not an image file"), (tiff, "not an image file")]);
}

#[test]
fn links_are_followed_but_no_folder_is_read_twice() {
    let dir = Folder::new("links");
    let root = dir.mkdir("root");
    dir.write("outside/x.png", &grey_png(2, 2, 50));
    dir.write("outside/y.png", &grey_png(2, 2, 60));
    dir.write("root/a/0.png", &grey_png(2, 2, 0));
    dir.write("root/b/0.png", &grey_png(2, 2, 0));
    symlink(".", root.join("a/loop")).unwrap();
    dir.mkdir("root/a/sub");
    symlink("../..", root.join("a/sub/up")).unwrap();
    symlink("../a", root.join("b/link-to-a")).unwrap();
    symlink(dir.path("outside"), root.join("c")).unwrap();
    symlink(dir.path("outside/x.png"), root.join("b/file-link.png")).unwrap();
    symlink(root.join("nothing-here.png"), root.join("b/dangling.png")).unwrap();
    symlink(root.join("b/self.png"), root.join("b/self.png")).unwrap();
    // A folder reached directly and through a link (sorted before it), and
    // from another class: read at its own place only.
    dir.write("root/a/s/1.png", &grey_png(2, 2, 0));
    symlink("s", root.join("a/l")).unwrap();
    symlink("../a/s", root.join("b/into-a")).unwrap();
    let data = within_time("a folder with link loops", move || load_folder(&root, &no_hold_out(), &quiet)).unwrap();
    assert_eq!(data.class_names, ["a", "b", "c"]);
    assert_eq!(names(&data, Split::Train), ["a/0.png", "a/s/1.png", "b/0.png", "b/file-link.png", "c/x.png", "c/y.png"]);
    assert_eq!(data.train.labels, [0, 0, 1, 1, 2, 2]);
    assert_eq!(&data.train.pixels[16..], [50, 50, 50, 50, 60, 60, 60, 60], "class c is the linked folder's images");
    let reason =
        |path: &str| skip_reason(&data.skipped, &dir.path(path)).unwrap_or_else(|| panic!("{path} not listed: {:?}", data.skipped));
    assert!(reason("root/a/loop").contains("symbolic link loop"), "{}", reason("root/a/loop"));
    assert!(reason("root/a/sub/up").contains("symbolic link loop"), "{}", reason("root/a/sub/up"));
    assert!(reason("root/b/link-to-a").contains("read already"), "{}", reason("root/b/link-to-a"));
    assert!(reason("root/b/dangling.png").contains("dangling symbolic link"), "{}", reason("root/b/dangling.png"));
    assert!(reason("root/b/self.png").contains("symbolic link loop"), "{}", reason("root/b/self.png"));
    assert!(reason("root/a/l").contains("a link to a folder read already"), "{}", reason("root/a/l"));
    assert!(reason("root/b/into-a").contains("a link to a folder read already"), "{}", reason("root/b/into-a"));
    assert_eq!(data.skipped.len(), 7, "{:?}", data.skipped);
    // Strict refuses the link to no image, not the loops (nothing is lost by them).
    let (path, message) = data_error(load_folder(&dir.path("root"), &FolderOptions { strict: true, ..no_hold_out() }, &quiet));
    assert_eq!(path, dir.path("root/b/dangling.png"), "{message}");
}

#[test]
fn pipes_and_devices_among_the_files_do_not_block() {
    let dir = Folder::new("pipes");
    dir.write("a/0.png", &grey_png(2, 2, 0));
    dir.write("b/0.png", &grey_png(2, 2, 0));
    for name in ["a/pipe.png", "a/pipe"] {
        let path = std::ffi::CString::new(dir.path(name).as_os_str().as_bytes()).unwrap();
        // SAFETY: `path` is a NUL-terminated string that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "mkfifo {name}");
    }
    symlink("/dev/zero", dir.path("b/zero.png")).unwrap();
    let root = dir.0.clone();
    let data = within_time("a folder with named pipes", move || load_folder(&root, &no_hold_out(), &quiet)).unwrap();
    assert_eq!(names(&data, Split::Train), ["a/0.png", "b/0.png"]);
    let reason = |path: &str| skip_reason(&data.skipped, &dir.path(path)).unwrap_or_else(|| panic!("{path} not listed"));
    assert!(reason("a/pipe.png").contains("is a named pipe"), "{}", reason("a/pipe.png"));
    assert_eq!(reason("a/pipe"), "not an image file");
    assert!(reason("b/zero.png").contains("is a character device"), "{}", reason("b/zero.png"));
    let root = dir.0.clone();
    let strict =
        within_time("a strict read of named pipes", move || load_folder(&root, &FolderOptions { strict: true, ..no_hold_out() }, &quiet));
    let (path, message) = data_error(strict);
    assert_eq!(path, dir.path("a/pipe.png"), "{message}");
}

#[test]
fn unreadable_files_and_folders_are_skipped_or_refused_when_strict() {
    if is_root() {
        eprintln!("skipped: root reads files whatever their permissions");
        return;
    }
    let dir = Folder::new("permissions");
    dir.write("a/0.png", &grey_png(2, 2, 0));
    dir.write("b/0.png", &grey_png(2, 2, 0));
    let file = dir.write("a/locked.png", &grey_png(2, 2, 0));
    dir.write("b/locked/1.png", &grey_png(2, 2, 0));
    let folder = dir.path("b/locked");
    for path in [&file, &folder] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let data = load(&dir.0, &no_hold_out());
    assert_eq!(names(&data, Split::Train), ["a/0.png", "b/0.png"]);
    assert!(skip_reason(&data.skipped, &file).unwrap().contains("ermission denied"), "{:?}", data.skipped);
    assert!(skip_reason(&data.skipped, &folder).unwrap().contains("cannot read the folder"), "{:?}", data.skipped);
    let (path, _) = data_error(load_folder(&dir.0, &FolderOptions { strict: true, ..no_hold_out() }, &quiet));
    assert!(path == file || path == folder, "{}", path.display());
}

#[test]
fn names_with_spaces_and_other_scripts_work() {
    let dir = Folder::new("names");
    dir.write("chat noir/ï m.png", &grey_png(2, 2, 1));
    dir.write("été/a b c.jpeg", &encode(&GrayImage::from_pixel(2, 2, Luma([2])), ImageFormat::Jpeg));
    dir.write("日本/写真 1.PNG", &grey_png(2, 2, 3));
    let odd_file = OsStr::from_bytes(b"caf\xe9.png");
    dir.write(Path::new("日本").join(odd_file), &grey_png(2, 2, 4));
    let data = load(&dir.0, &no_hold_out());
    assert_eq!(data.class_names, ["chat noir", "été", "日本"]);
    assert_eq!(data.train.labels, [0, 1, 2, 2], "a file name need not be UTF-8");
    dir.write(Path::new(OsStr::from_bytes(b"caf\xe9")).join("0.png"), &grey_png(2, 2, 0));
    let (path, message) = data_error(scan_folder(&dir.0, &FolderOptions::default()));
    assert_eq!(path, dir.0.join(OsStr::from_bytes(b"caf\xe9")));
    assert!(message.contains("caf\u{FFFD}") && message.contains("UTF-8"), "{message}");
}

/// Every path under `dir` (links not followed) with its type, length and
/// modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String, u64, std::time::SystemTime)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        all.push((path.clone(), format!("{:?}", meta.file_type()), meta.len(), meta.modified().unwrap()));
        if meta.is_dir() {
            all.extend(snapshot(&path));
        }
    }
    all.sort();
    all
}

#[test]
fn nothing_is_written_into_the_folder() {
    let (dir, _) = damaged_folder("read-only");
    dir.write("a/sub/1.png", &rgb_png(3, 5, [1, 2, 3]));
    dir.write("b/notes.txt", b"text");
    symlink(".", dir.path("a/loop")).unwrap();
    let before = snapshot(&dir.0);
    load(&dir.0, &FolderOptions::default());
    load(&dir.0, &FolderOptions { size: Some((7, 7)), channels: Some(1), ..FolderOptions::default() });
    assert_eq!(snapshot(&dir.0), before);
}

#[test]
fn too_many_bytes_are_refused_before_decoding() {
    let dir = Folder::new("max-bytes");
    let png = grey_png(2, 2, 0);
    for i in 0..30 {
        dir.write(format!("{}/{i}.png", ["a", "b"][i % 2]), &png);
    }
    let calls = AtomicUsize::new(0);
    let count = |_: usize, _: usize| {
        calls.fetch_add(1, Ordering::Relaxed);
    };
    // Tiny files asked for at 8192×8192 RGB: 5.6 GiB, over the default 4 GiB.
    let huge = FolderOptions { size: Some((8192, 8192)), channels: Some(3), ..FolderOptions::default() };
    let started = Instant::now();
    let (path, message) = data_error(load_folder(&dir.0, &huge, &count));
    assert_eq!(path, dir.0);
    assert!(message.contains("6039797760 bytes") && message.contains("30 images of 3×8192×8192 = 201326592 bytes each"), "{message}");
    assert!(message.contains(&format!("limit of {MAX_FOLDER_BYTES} bytes")), "{message}");
    assert_eq!(calls.load(Ordering::Relaxed), 0, "no image decoded");
    assert!(started.elapsed() < Duration::from_secs(10), "refused at once, not after decoding");
    assert_eq!(scan(&dir.0, &huge).bytes, 30 * 3 * 8192 * 8192, "the scan still tells the size, for info");
    // At the limit it loads; one byte under, it is refused.
    let at = |max_bytes| FolderOptions { max_bytes, ..FolderOptions::default() };
    assert_eq!(load(&dir.0, &at(120)).train.len() + load(&dir.0, &at(120)).test.len(), 30);
    let (_, message) = data_error(load_folder(&dir.0, &at(119), &count));
    assert!(message.contains("120 bytes: 30 images of 1×2×2 = 4 bytes each"), "{message}");
}

/// `classes` class folders of `per_class` tiny PNGs. Unless `distinct`, hard
/// links to one file per class, which the loader opens and decodes each as
/// its own: writing each file's data costs here up to 0.5 ms a file, a link
/// 0.015 ms.
fn many_files(name: &str, classes: usize, per_class: usize, distinct: bool) -> Folder {
    let dir = Folder::new(name);
    let png = grey_png(4, 4, 9);
    for class in 0..classes {
        let source = dir.write(format!(".source-{class}.png"), &png);
        let class_dir = dir.mkdir(&format!("class {class}"));
        for i in 0..per_class {
            let path = class_dir.join(format!("{i:06}.png"));
            if distinct {
                std::fs::write(path, &png).unwrap();
            } else {
                std::fs::hard_link(&source, path).unwrap();
            }
        }
    }
    dir
}

/// Tells `progress`'s calls apart: how many, the largest `done`, the total.
#[derive(Default)]
struct ProgressLog {
    calls: AtomicUsize,
    largest: AtomicUsize,
    total: AtomicUsize,
}

impl ProgressLog {
    fn note(&self, done: usize, total: usize) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.largest.fetch_max(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }
}

// 200,000 files were measured by hand (`two_hundred_thousand_files`,
// ignored: it writes 200,000 files); this keeps the suite fast.
#[test]
fn twenty_thousand_files_load_quickly() {
    let dir = many_files("20k", 2, 10_000, false);
    let log = ProgressLog::default();
    let started = Instant::now();
    let data = load_folder(&dir.0, &FolderOptions::default(), &|done, total| log.note(done, total)).unwrap();
    let elapsed = started.elapsed();
    eprintln!("20,000 files: {elapsed:.2?}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    assert_eq!((data.train.len(), data.test.len()), (18_000, 2_000));
    assert_eq!(data.test.labels.iter().filter(|&&l| l == 0).count(), 1_000);
    assert!(data.train.pixels.iter().chain(&data.test.pixels).all(|&p| p == 9));
    assert_eq!((log.largest.load(Ordering::Relaxed), log.total.load(Ordering::Relaxed)), (20_000, 20_000));
    let calls = log.calls.load(Ordering::Relaxed);
    assert!((100..=1_001).contains(&calls), "progress throttled: {calls} calls");
}

/// The peak resident memory of this process so far (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Run by hand, alone, for its figures:
/// `cargo test --release --target x86_64-unknown-linux-gnu -p googlenet-core --test suite -- --ignored --exact image_folders::two_hundred_thousand_files --nocapture`
#[test]
#[ignore = "writes 200,000 files; run by hand for the figures"]
fn two_hundred_thousand_files() {
    let started = Instant::now();
    let dir = many_files("200k", 10, 20_000, true);
    eprintln!("writing 200,000 files: {:.2?}; peak RSS {} KiB", started.elapsed(), peak_rss_kib());
    let started = Instant::now();
    let found = scan(&dir.0, &FolderOptions::default());
    eprintln!("scan: {:.2?}; peak RSS {} KiB", started.elapsed(), peak_rss_kib());
    drop(found);
    let started = Instant::now();
    let data = load(&dir.0, &FolderOptions::default());
    eprintln!("load (scan and decode): {:.2?}; peak RSS {} KiB", started.elapsed(), peak_rss_kib());
    assert_eq!(data.train.len() + data.test.len(), 200_000);
    assert_eq!(data.test.len(), 20_000);
}
