//! Every file and number a user can hand the core (issue 12): things that
//! are not regular files are refused by name before a byte is read, nothing
//! hangs or reads without a bound, saves never replace a device or a pipe,
//! damaged metadata names its file, and sizes out of range fail as errors
//! instead of panics or huge allocations. Devices are only ever opened for
//! reading here; every file written lives in a temp folder.

use googlenet_core::data::ImageShape;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{mnist, mnist_dir, temp_dir};
use candle_core::{DType, Device, Tensor};
use googlenet_core::data::{load_mnist_split, Split};
use googlenet_core::files::{check_output_path, read_regular, write_atomically};
use googlenet_core::image::read_digit_image;
use googlenet_core::model::{build_model, load_model, save_model, trace, ModelInfo};
use googlenet_core::train::{
    benchmark, evaluate, fit, load_checkpoint, predict_probabilities, prepare_checkpoint_dir, save_checkpoint, BenchConfig, FitConfig,
    TrainEvent, MAX_BATCH_SIZE,
};
use googlenet_core::Error;

/// Runs `work` on a thread and fails the test if it takes more than 20 s:
/// a read that blocks (a named pipe) must fail the test, not hang it.
fn within_time<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || done.send(work()));
    result.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("{what} hung"))
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Paths that are not regular files, each with the words its error must hold.
fn not_regular_files(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let folder = dir.join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let pipe = dir.join("a-pipe");
    mkfifo(&pipe);
    let dangling = dir.join("dangling");
    symlink(dir.join("nothing-here"), &dangling);
    let (a, b) = (dir.join("loop-a"), dir.join("loop-b"));
    symlink(&b, &a);
    symlink(&a, &b);
    vec![
        (folder, "is a directory"),
        (pipe, "is a named pipe"),
        (dangling, "dangling symbolic link"),
        (a, "symbolic link loop"),
        (PathBuf::from("/dev/zero"), "is a character device"),
        (PathBuf::from("/dev/urandom"), "is a character device"),
    ]
}

fn message<T>(result: Result<T, Error>) -> String {
    match result {
        Ok(_) => panic!("must be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn model_checkpoint_and_image_readers_refuse_what_is_not_a_regular_file() {
    let dir = temp_dir("not-regular");
    for (path, words) in not_regular_files(&dir) {
        for (reader, text) in [
            (
                "load_model",
                within_time("load_model", {
                    let p = path.clone();
                    move || message(load_model(&p, &Device::Cpu))
                }),
            ),
            (
                "load_checkpoint",
                within_time("load_checkpoint", {
                    let p = path.clone();
                    move || message(load_checkpoint(&p, &Device::Cpu))
                }),
            ),
            (
                "read_digit_image",
                within_time("read_digit_image", {
                    let p = path.clone();
                    move || message(read_digit_image(&p))
                }),
            ),
        ] {
            // A folder given to load_checkpoint is a checkpoint folder: it holds none.
            let words = if reader == "load_checkpoint" && words == "is a directory" { "holds no checkpoint" } else { words };
            assert!(text.contains(words), "{reader}({}): {text}", path.display());
            assert!(text.contains(&path.display().to_string()), "{reader}: names the file: {text}");
        }
    }
}

#[test]
fn an_mnist_file_that_is_not_a_regular_file_says_what_it_is() {
    for (kind, words) in [("folder", "is a directory"), ("pipe", "is a named pipe"), ("dangling", "dangling symbolic link")] {
        let dir = temp_dir(&format!("idx-{kind}"));
        let labels = "t10k-labels-idx1-ubyte";
        std::fs::copy(mnist_dir().join(labels), dir.join(labels)).unwrap();
        let images = dir.join("t10k-images-idx3-ubyte");
        match kind {
            "folder" => std::fs::create_dir(&images).unwrap(),
            "pipe" => mkfifo(&images),
            _ => symlink(dir.join("gone"), &images),
        }
        let text = within_time("load_mnist_split", move || message(load_mnist_split(&dir, Split::Test)));
        assert!(text.contains(words) && text.contains("t10k-images-idx3-ubyte"), "{kind}: {text}");
    }
}

#[test]
fn a_huge_file_is_judged_by_its_header_and_size_unread() {
    let dir = temp_dir("huge");
    // 3 GB of zeros, sparse: its first 8 bytes already say it is no safetensors file.
    let zeros = dir.join("zeros.safetensors");
    std::fs::File::create(&zeros).unwrap().set_len(3 << 30).unwrap();
    let text = message(load_model(&zeros, &Device::Cpu));
    assert!(text.contains("larger than 256 MiB"), "{text}");
    // Within the size cap, the header is checked before the body is read.
    std::fs::File::create(&zeros).unwrap().set_len(100 << 20).unwrap();
    let text = message(load_model(&zeros, &Device::Cpu));
    assert!(text.contains("header length 0"), "{text}");
    // A valid header with a body that is not all there.
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let file = dir.join("cut.safetensors");
    save_model(model.as_ref(), &ModelInfo { model: "lenet5".into(), ..ModelInfo::default() }, &file).unwrap();
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(len - 100).unwrap();
    let text = message(load_model(&file, &Device::Cpu));
    assert!(text.contains(&format!("its header describes {len} bytes, the file has {}", len - 100)), "{text}");
    // Any reader refuses by size before reading.
    let text = message(read_regular(&zeros, 1 << 20, "an image of a digit"));
    assert!(text.contains("larger than 1 MiB, too large for an image of a digit"), "{text}");
}

fn lenet(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    save_model(model.as_ref(), &ModelInfo { model: "lenet5".into(), ..ModelInfo::default() }, &path).unwrap();
    path
}

#[test]
fn a_save_never_replaces_what_is_not_a_regular_file() {
    let dir = temp_dir("save-targets");
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let info = ModelInfo { model: "lenet5".into(), ..ModelInfo::default() };
    let pipe = dir.join("pipe.safetensors");
    mkfifo(&pipe);
    let folder = dir.join("folder.safetensors");
    std::fs::create_dir(&folder).unwrap();
    let link_to_pipe = dir.join("link-to-pipe.safetensors");
    symlink(&pipe, &link_to_pipe);
    for (target, words) in [(&pipe, "is a named pipe"), (&folder, "is a directory"), (&link_to_pipe, "is a named pipe")] {
        for text in [message(check_output_path(target)), message(save_model(model.as_ref(), &info, target))] {
            assert!(text.contains(words) && text.contains("refusing to replace it"), "{}: {text}", target.display());
        }
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&pipe).unwrap().file_type().is_fifo(), "the pipe is still a pipe");
    assert!(std::fs::symlink_metadata(&link_to_pipe).unwrap().file_type().is_symlink());
    assert!(folder.is_dir());
    let text = message(check_output_path(&dir.join("no-such-folder/model.safetensors")));
    assert!(text.contains("no-such-folder does not exist"), "{text}");
}

#[test]
fn a_save_through_a_symbolic_link_replaces_the_file_it_names() {
    let dir = temp_dir("save-link");
    let real = lenet(&dir, "real.safetensors");
    let before = std::fs::read(&real).unwrap();
    let link = dir.join("link.safetensors");
    symlink("real.safetensors", &link);
    let trained = build_model("lenet5", 7, &Device::Cpu).unwrap();
    let written = write_atomically(&link, b"new bytes").unwrap();
    assert_eq!(written, dir.join("real.safetensors"));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert_eq!(std::fs::read(&real).unwrap(), b"new bytes");
    save_model(trained.as_ref(), &ModelInfo { model: "lenet5".into(), ..ModelInfo::default() }, &link).unwrap();
    assert_ne!(std::fs::read(&real).unwrap(), before);
    assert!(load_model(&link, &Device::Cpu).is_ok());
    // A link to a file that does not exist yet creates it.
    let ahead = dir.join("ahead.safetensors");
    symlink("later.safetensors", &ahead);
    write_atomically(&ahead, b"x").unwrap();
    assert_eq!(std::fs::read(dir.join("later.safetensors")).unwrap(), b"x");
}

#[test]
fn a_save_removes_the_temp_files_of_writers_that_died() {
    let dir = temp_dir("stale");
    // No process has a pid this high (the kernel's limit is 2^22).
    let stale = [dir.join(".model.safetensors.99999999.tmp"), dir.join(".model.safetensors.99999998.3.tmp")];
    let own = dir.join(format!(".model.safetensors.{}.999.tmp", std::process::id()));
    let other = dir.join(".other.safetensors.99999999.tmp");
    for path in stale.iter().chain([&own, &other]) {
        std::fs::write(path, b"half a file").unwrap();
    }
    lenet(&dir, "model.safetensors");
    assert!(stale.iter().all(|p| !p.exists()), "stale temp files of model.safetensors are removed");
    assert!(own.exists(), "a live writer's temp file is kept");
    assert!(other.exists(), "only the temp files of the file written are touched");
}

/// Rewrites the safetensors file at `path` with `edit` applied to its tensors and metadata.
fn rewrite(path: &Path, edit: impl FnOnce(&mut HashMap<String, Tensor>, &mut HashMap<String, String>)) {
    let bytes = std::fs::read(path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap_or_default();
    let mut tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap();
    edit(&mut tensors, &mut metadata);
    let owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let (dtype, data): (_, Vec<u8>) = match t.dtype() {
                DType::I64 => (
                    safetensors::Dtype::I64,
                    t.flatten_all().unwrap().to_vec1::<i64>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                DType::U32 => (
                    safetensors::Dtype::U32,
                    t.flatten_all().unwrap().to_vec1::<u32>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
                _ => (
                    safetensors::Dtype::F32,
                    t.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
                ),
            };
            (name.clone(), dtype, t.dims().to_vec(), data)
        })
        .collect();
    let views: Vec<_> =
        owned.iter().map(|(n, d, s, b)| (n.clone(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap())).collect();
    std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

#[test]
fn weights_must_be_finite_floats_and_the_error_names_the_tensor() {
    let dir = temp_dir("weights");
    for (value, words) in [(f32::NAN, "holds NaN at index 3"), (f32::INFINITY, "holds inf at index 3")] {
        let path = lenet(&dir, "bad.safetensors");
        rewrite(&path, |tensors, _| {
            let mut w = tensors["conv1.weight"].flatten_all().unwrap().to_vec1::<f32>().unwrap();
            w[3] = value;
            tensors.insert("conv1.weight".into(), Tensor::from_vec(w, tensors["conv1.weight"].dims(), &Device::Cpu).unwrap());
        });
        let text = message(load_model(&path, &Device::Cpu));
        assert!(text.contains("'conv1.weight'") && text.contains(words) && text.contains("bad.safetensors"), "{text}");
    }
    let path = lenet(&dir, "int.safetensors");
    rewrite(&path, |tensors, _| {
        let ints = tensors["fc3.bias"].to_dtype(DType::I64).unwrap();
        tensors.insert("fc3.bias".into(), ints);
    });
    let text = message(load_model(&path, &Device::Cpu));
    assert!(text.contains("'fc3.bias' holds I64 values; weights must be floating-point"), "{text}");
}

/// Trains lenet5 one epoch on 64 images with checkpoints into `dir`.
fn one_checkpointed_epoch(dir: &Path) {
    let data = mnist(Split::Train, 64);
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let config = FitConfig { epochs: 1, batch_size: 32, ..FitConfig::default() };
    let info = ModelInfo { model: "lenet5".into(), ..ModelInfo::default() };
    fit(model.as_ref(), &data, None, &config, &Device::Cpu, &mut |event| {
        if let TrainEvent::Checkpoint(state) = event {
            save_checkpoint(dir, model.as_ref(), &info, &config, state).unwrap();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
}

#[test]
fn a_damaged_checkpoint_history_names_the_file() {
    let dir = temp_dir("history");
    one_checkpointed_epoch(&dir);
    let path = dir.join("checkpoint-e0001.safetensors");
    rewrite(&path, |_, metadata| {
        metadata.insert("history".into(), "{x".into());
    });
    let text = message(load_checkpoint(&path, &Device::Cpu));
    assert!(text.contains("checkpoint-e0001.safetensors") && text.contains("'history' is damaged: epoch line 1"), "{text}");
}

#[test]
fn a_new_run_refuses_a_folder_of_another_runs_checkpoints_unless_told_to_start_over() {
    let dir = temp_dir("claim");
    prepare_checkpoint_dir(&dir, false).expect("an empty folder is fine");
    prepare_checkpoint_dir(&dir.join("not-yet"), false).expect("a folder to be made is fine");
    one_checkpointed_epoch(&dir);
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let text = message(prepare_checkpoint_dir(&dir, false));
    assert!(
        text.contains(&dir.display().to_string()) && text.contains("lenet5 run") && text.contains("checkpoint-e0001.safetensors"),
        "{text}"
    );
    prepare_checkpoint_dir(&dir, true).unwrap();
    assert!(!dir.join("checkpoint-e0001.safetensors").exists(), "start over deletes the old checkpoints");
    assert!(dir.join("notes.txt").exists(), "and nothing else");
}

#[test]
fn too_small_inputs_give_the_shape_error_of_the_layer_not_a_panic() {
    for (model, side, layer) in
        [("lenet5", 1, "pool1"), ("lenet5", 5, "conv2"), ("googlenet", 5, "pool1"), ("residual", 5, "pool1"), ("googlenet", 1, "conv1")]
    {
        let m = build_model(model, 0, &Device::Cpu).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| trace(m.description(), side, side, &mut |_, _| {})));
        let text = message(result.unwrap_or_else(|_| panic!("{model} at {side}x{side} panicked")));
        assert!(text.contains(&format!("layer {layer}")), "{model} at {side}x{side}: {text}");
    }
}

#[test]
fn batch_sizes_above_the_cap_are_refused_before_anything_is_allocated() {
    let data = mnist(Split::Test, 8);
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    for batch_size in [MAX_BATCH_SIZE + 1, 1_000_000, 100_000_000, u32::MAX as usize, usize::MAX] {
        let config = FitConfig { batch_size, ..FitConfig::default() };
        // fit names its option (`batchSize`); evaluate and bench their argument.
        let want = format!("in [1, {MAX_BATCH_SIZE}]");
        let bench = BenchConfig { batch_size, ..BenchConfig::default() };
        for text in [
            message(fit(model.as_ref(), &data, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(()))),
            message(evaluate(model.as_ref(), &data, batch_size, &Device::Cpu)),
            message(benchmark(model.as_ref(), &data, &bench, &Device::Cpu)),
        ] {
            assert!(text.to_lowercase().starts_with("batch") && text.contains(&want), "{batch_size}: {text}");
        }
    }
}

#[test]
fn bytes_and_unit_floats_predict_alike() {
    let data = mnist(Split::Test, 300);
    let model = build_model("lenet5", 0, &Device::Cpu).unwrap();
    let bytes: Vec<u8> = (0..data.len()).flat_map(|i| data.image(i).to_vec()).collect();
    let floats: Vec<f32> = bytes.iter().map(|&b| b as f32 / 255.0).collect();
    let from_bytes =
        predict_probabilities(model.as_ref(), &bytes, 300, ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    let from_floats =
        predict_probabilities(model.as_ref(), &floats, 300, ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    assert_eq!(from_bytes.len(), 3000);
    assert!(from_bytes.iter().zip(&from_floats).all(|(a, b)| (a - b).abs() < 1e-6));
}
