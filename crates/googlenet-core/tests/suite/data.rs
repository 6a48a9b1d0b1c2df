use crate::common;

use std::io::Write;
use std::path::Path;

use crate::common::{mnist, temp_dir};
use googlenet_core::data::idx::{encode_images, encode_labels, parse_images, parse_labels, IdxImages};
use googlenet_core::data::{dataset_from_idx_bytes, load_mnist, load_mnist_split, Dataset, ImageShape, Normalization, Split};
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
    let images = IdxImages { count: n, channels: 1, rows: 28, cols: 28, pixels };
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
    let images = IdxImages { count: 2, channels: 1, rows: 2, cols: 3, pixels: (0..12).collect() };
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
fn labels_above_9_make_more_classes() {
    // EMNIST's IDX files hold 26, 47 or 62 classes: any byte is a label.
    let (dir, _, mut labels) = small_split("label", 5);
    labels[3] = 46;
    write(&dir.join("t10k-labels-idx1-ubyte"), &encode_labels(&labels));
    let data = load_mnist_split(&dir, Split::Test).unwrap();
    assert_eq!(data.classes().len(), 47);
    assert_eq!(data.class_counts()[46], 1);
}

#[test]
fn from_arrays_checks_sizes() {
    assert!(Dataset::new(vec![0; 784 * 2], vec![1, 2], 28, 28).is_ok());
    assert!(matches!(Dataset::new(vec![0; 784 * 2], vec![1], 28, 28), Err(Error::InvalidArgument(_))));
    assert!(matches!(Dataset::new(vec![0; 785], vec![1], 28, 28), Err(Error::InvalidArgument(_))));
    assert_eq!(Dataset::new(vec![0; 784], vec![12], 28, 28).unwrap().classes().len(), 13);
}

#[test]
fn batches_are_normalized_like_pytorch() {
    let mnist_norm = Normalization::mnist(1);
    assert!((mnist_norm.byte(0, 0) - (-0.1307 / 0.3081)).abs() < 1e-6);
    assert!((mnist_norm.byte(0, 255) - (1.0 - 0.1307) / 0.3081).abs() < 1e-6);
    let data = mnist(Split::Train, 3);
    let batch = data.batch(&[2, 0], &Normalization::mnist(1), &candle_core::Device::Cpu).unwrap();
    assert_eq!(batch.images.dims(), &[2, 1, 28, 28]);
    assert_eq!(batch.labels.to_vec1::<u32>().unwrap(), vec![4, 5]);
    let first = batch.images.get(1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let expected: Vec<f32> = data.image(0).iter().map(|&p| mnist_norm.byte(0, p)).collect();
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
    let none = encode_images(&IdxImages { count: 0, channels: 1, rows: 28, cols: 28, pixels: vec![] });
    let message = data_error(dataset_from_idx_bytes(none, encode_labels(&[]), images_name, labels_name));
    assert_eq!(message, "test images: holds no images");
    let message = data_error(dataset_from_idx_bytes(label_bytes.clone(), label_bytes, images_name, labels_name));
    assert!(message.starts_with("test images: "), "{message}");
}

#[test]
fn mnist_training_statistics_round_to_the_constants_bit_for_bit() {
    let (train, test) = load_mnist(&crate::common::mnist_dir()).unwrap();
    assert_eq!(train.normalization(), &Normalization::mnist(1));
    // A part keeps its whole's statistics; both splits share the classes.
    assert_eq!(train.take(10).normalization(), &Normalization::mnist(1));
    assert_eq!(train.classes(), test.classes());
    assert_eq!(train.classes().len(), 10);
    assert_eq!(train.class_counts().iter().sum::<usize>(), 60_000);
}

#[test]
fn colour_idx_files_read_as_planes_and_write_back_the_same_bytes() {
    // Two 2×2 RGB images, channels last as IDX4 holds them.
    let planes: Vec<u8> = (0..24).collect();
    let images = IdxImages { count: 2, channels: 3, rows: 2, cols: 2, pixels: planes.clone() };
    let bytes = encode_images(&images);
    assert_eq!(&bytes[..4], &[0, 0, 8, 4]);
    // Image 0, pixel 0: its red, green and blue come first in the file.
    assert_eq!(&bytes[20..23], &[0, 4, 8]);
    let read = googlenet_core::data::idx::parse_images(&bytes, std::path::Path::new("colour")).unwrap();
    assert_eq!(read, images);
    let data = Dataset::with_classes(read.pixels, vec![0, 2], ImageShape { channels: 3, height: 2, width: 2 }, None).unwrap();
    assert_eq!(data.classes(), ["0", "1", "2"]);
    assert_eq!(data.image(1), &planes[12..]);
    let batch = data.gather(&[1], &Normalization::new(vec![0.0; 3], vec![1.0; 3]).unwrap()).0;
    assert_eq!(batch[4], 16.0 / 255.0);
}

#[test]
fn idx4_files_with_other_channel_counts_are_refused() {
    let mut bytes = Vec::new();
    for v in [0x0000_0804u32, 1, 1, 1, 2] {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    bytes.extend_from_slice(&[1, 2]);
    let err = googlenet_core::data::idx::parse_images(&bytes, std::path::Path::new("two")).unwrap_err().to_string();
    assert!(err.contains("2 channels") && err.contains("1 or 3"), "{err}");
}

#[test]
fn labels_beyond_ten_make_more_classes_and_names_are_checked() {
    let data = Dataset::new(vec![0; 4 * 4], vec![0, 25, 46, 3], 2, 2).unwrap();
    assert_eq!(data.classes().len(), 47);
    let names = |n: usize| (0..n).map(|i| format!("c{i}")).collect::<Vec<_>>();
    let shape = ImageShape { channels: 1, height: 2, width: 2 };
    let err = Dataset::with_classes(vec![0; 8], vec![0, 3], shape, Some(names(3))).unwrap_err().to_string();
    assert!(err.contains("labels[1] is 3") && err.contains("3 classes"), "{err}");
    let twice = vec!["a".to_string(), "a".to_string()];
    assert!(Dataset::with_classes(vec![0; 4], vec![0], shape, Some(twice)).unwrap_err().to_string().contains("twice"));
    assert!(Dataset::with_classes(vec![0; 4], vec![0], shape, Some(names(257))).is_err());
}
