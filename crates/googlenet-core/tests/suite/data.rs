use crate::common;

use std::io::Write;
use std::path::Path;

use crate::common::{mnist, temp_dir};
use googlenet_core::data::idx::{encode_images, encode_labels, parse_images, parse_labels, IdxImages};
use googlenet_core::data::{dataset_from_idx_bytes, load_mnist, load_mnist_split, normalize_pixel, Dataset, Split};
use googlenet_core::Error;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A folder with a small real test split: images, labels as IDX.
fn small_split(name: &str, n: usize) -> (std::path::PathBuf, IdxImages, Vec<u8>) {
    let real = mnist(Split::Test, n);
    let pixels: Vec<u8> = (0..n).flat_map(|i| real.image(i).to_vec()).collect();
    let images = IdxImages { count: n, rows: 28, cols: 28, pixels };
    let labels = real.labels().to_vec();
    let dir = temp_dir(name);
    write(&dir.join("t10k-images-idx3-ubyte"), &encode_images(&images));
    write(&dir.join("t10k-labels-idx1-ubyte"), &encode_labels(&labels));
    (dir, images, labels)
}

fn data_error(result: Result<Dataset, Error>) -> String {
    match result {
        Err(e @ (Error::Data { .. } | Error::Io { .. })) => e.to_string(),
        Err(other) => panic!("expected a data error, got {other:?}"),
        Ok(_) => panic!("expected a data error, got a dataset"),
    }
}

#[test]
fn bundled_mnist_has_the_standard_sizes() {
    let (train, test) = load_mnist(&common::mnist_dir()).unwrap();
    assert_eq!((train.len(), train.height(), train.width()), (60_000, 28, 28));
    assert_eq!(test.len(), 10_000);
    // The first training labels of MNIST are 5 0 4 1 9.
    assert_eq!(&train.labels()[..5], &[5, 0, 4, 1, 9]);
}

#[test]
fn idx_round_trips() {
    let images = IdxImages { count: 2, rows: 2, cols: 3, pixels: (0..12).collect() };
    let p = Path::new("mem");
    assert_eq!(parse_images(&encode_images(&images), p).unwrap(), images);
    assert_eq!(parse_labels(&encode_labels(&[3, 7]), p).unwrap(), vec![3, 7]);
}

#[test]
fn reads_raw_and_gzip_files_alike() {
    let (dir, images, labels) = small_split("gzip", 50);
    let raw = load_mnist_split(&dir, Split::Test).unwrap();
    std::fs::remove_file(dir.join("t10k-images-idx3-ubyte")).unwrap();
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    write(&dir.join("t10k-images-idx3-ubyte.gz"), &gzip(&encode_images(&images)));
    write(&dir.join("t10k-labels-idx1-ubyte.gz"), &gzip(&encode_labels(&labels)));
    let gz = load_mnist_split(&dir, Split::Test).unwrap();
    assert_eq!(gz.len(), 50);
    assert_eq!(gz.labels(), raw.labels());
    assert_eq!(gz.image(49), raw.image(49));
}

#[test]
fn missing_folder_and_file_name_the_path() {
    let msg = data_error(load_mnist_split(Path::new("/no/such/folder"), Split::Train));
    assert!(msg.contains("/no/such/folder") && msg.contains("not found"), "{msg}");
    let (dir, _, _) = small_split("missing", 5);
    let msg = data_error(load_mnist_split(&dir, Split::Train));
    assert!(msg.contains("train-images-idx3-ubyte") && msg.contains("not found"), "{msg}");
}

#[test]
fn truncated_files_are_refused() {
    let (dir, images, _) = small_split("truncated", 5);
    let full = encode_images(&images);
    let path = dir.join("t10k-images-idx3-ubyte");
    write(&path, &full[..full.len() - 1]);
    let msg = data_error(load_mnist_split(&dir, Split::Test));
    assert!(msg.contains("t10k-images-idx3-ubyte") && msg.contains("truncated"), "{msg}");
    write(&path, &full[..10]);
    assert!(data_error(load_mnist_split(&dir, Split::Test)).contains("truncated"));
    write(&path, &full[..2]);
    assert!(data_error(load_mnist_split(&dir, Split::Test)).contains("truncated"));
    let mut longer = full.clone();
    longer.push(0);
    write(&path, &longer);
    assert!(data_error(load_mnist_split(&dir, Split::Test)).contains("unexpected bytes"));
}

#[test]
fn damaged_gzip_is_refused() {
    let (dir, images, _) = small_split("badgz", 5);
    std::fs::remove_file(dir.join("t10k-images-idx3-ubyte")).unwrap();
    let gz = gzip(&encode_images(&images));
    write(&dir.join("t10k-images-idx3-ubyte.gz"), &gz[..gz.len() / 2]);
    let msg = data_error(load_mnist_split(&dir, Split::Test));
    assert!(msg.contains("t10k-images-idx3-ubyte.gz") && msg.contains("gzip"), "{msg}");
}

#[test]
fn wrong_magic_is_refused() {
    let (dir, _, labels) = small_split("magic", 5);
    // A label file where the image file should be.
    write(&dir.join("t10k-images-idx3-ubyte"), &encode_labels(&labels));
    let msg = data_error(load_mnist_split(&dir, Split::Test));
    assert!(msg.contains("t10k-images-idx3-ubyte") && msg.contains("magic"), "{msg}");
}

#[test]
fn image_and_label_counts_must_match() {
    let (dir, _, labels) = small_split("counts", 5);
    write(&dir.join("t10k-labels-idx1-ubyte"), &encode_labels(&labels[..4]));
    let msg = data_error(load_mnist_split(&dir, Split::Test));
    assert!(msg.contains("4 labels") && msg.contains("5 images"), "{msg}");
}

#[test]
fn labels_outside_0_to_9_are_refused() {
    let (dir, _, mut labels) = small_split("label", 5);
    labels[3] = 10;
    write(&dir.join("t10k-labels-idx1-ubyte"), &encode_labels(&labels));
    let msg = data_error(load_mnist_split(&dir, Split::Test));
    assert!(msg.contains("t10k-labels-idx1-ubyte") && msg.contains("labels[3] is 10; labels must be 0..9"), "{msg}");
}

#[test]
fn from_arrays_checks_sizes() {
    assert!(Dataset::new(vec![0; 784 * 2], vec![1, 2], 28, 28).is_ok());
    assert!(matches!(Dataset::new(vec![0; 784 * 2], vec![1], 28, 28), Err(Error::InvalidArgument(_))));
    assert!(matches!(Dataset::new(vec![0; 785], vec![1], 28, 28), Err(Error::InvalidArgument(_))));
    assert!(matches!(Dataset::new(vec![0; 784], vec![12], 28, 28), Err(Error::InvalidArgument(_))));
}

#[test]
fn batches_are_normalized_like_pytorch() {
    assert!((normalize_pixel(0) - (-0.1307 / 0.3081)).abs() < 1e-6);
    assert!((normalize_pixel(255) - (1.0 - 0.1307) / 0.3081).abs() < 1e-6);
    let data = mnist(Split::Train, 3);
    let batch = data.batch(&[2, 0], &candle_core::Device::Cpu).unwrap();
    assert_eq!(batch.images.dims(), &[2, 1, 28, 28]);
    assert_eq!(batch.labels.to_vec1::<u32>().unwrap(), vec![4, 5]);
    let first = batch.images.get(1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let expected: Vec<f32> = data.image(0).iter().map(|&p| normalize_pixel(p)).collect();
    assert_eq!(first, expected);
}

/// A browser tab fetches IDX files and hands over their bytes: the same
/// checks as for files, the same dataset, raw or gzipped.
#[test]
fn idx_bytes_make_the_dataset_the_files_make() {
    let (dir, images, labels) = small_split("idx-bytes", 20);
    let from_files = load_mnist_split(&dir, Split::Test).unwrap();
    let (image_bytes, label_bytes) = (encode_images(&images), encode_labels(&labels));
    let (images_name, labels_name) = (Path::new("test images"), Path::new("test labels"));
    for (i, l) in [(image_bytes.clone(), label_bytes.clone()), (gzip(&image_bytes), gzip(&label_bytes))] {
        let from_bytes = dataset_from_idx_bytes(i, l, images_name, labels_name).unwrap();
        assert_eq!(from_bytes.labels(), from_files.labels());
        assert_eq!((from_bytes.len(), from_bytes.height(), from_bytes.width()), (20, 28, 28));
        assert!((0..20).all(|k| from_bytes.image(k) == from_files.image(k)));
    }

    let short = encode_labels(&labels[..19]);
    let message = data_error(dataset_from_idx_bytes(image_bytes.clone(), short, images_name, labels_name));
    assert_eq!(message, "test labels: 19 labels, but test images holds 20 images");
    let none = encode_images(&IdxImages { count: 0, rows: 28, cols: 28, pixels: vec![] });
    let message = data_error(dataset_from_idx_bytes(none, encode_labels(&[]), images_name, labels_name));
    assert_eq!(message, "test images: holds no images");
    let message = data_error(dataset_from_idx_bytes(label_bytes.clone(), label_bytes, images_name, labels_name));
    assert!(message.starts_with("test images: "), "{message}");
}
