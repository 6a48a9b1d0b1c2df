//! Checkpoints: a run stopped after an epoch or in the middle of one and
//! resumed from its checkpoint ends with exactly the weights of a run that
//! never stopped (on the CPU); damaged or mismatched checkpoints fail
//! clearly.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{mnist, temp_dir};
use candle_core::Device;
use googlenet_core::data::{Dataset, Split};
use googlenet_core::model::{build_model, load_model, save_model, Model, ModelInfo};
use googlenet_core::options::Value;
use googlenet_core::train::{
    fit, fit_from, latest_checkpoint, load_checkpoint, save_checkpoint, Checkpoint, EpochSummary, FitConfig, RecipeSettings, TrainEvent,
};
use googlenet_core::Error;

fn weights(model: &dyn Model) -> Vec<Vec<f32>> {
    model.parameters().iter().chain(model.buffers()).map(|p| p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect()
}

fn info(name: &str) -> ModelInfo {
    ModelInfo { model: name.into(), version: "test".into(), ..ModelInfo::default() }
}

/// Where the interrupted run stops: after an epoch, or at a batch.
#[derive(Clone, Copy)]
pub(crate) enum Stop {
    AfterEpoch(usize),
    AtBatch { epoch: usize, batch: usize },
}

/// Trains with checkpoints into `dir`, stopping at `stop`.
fn train_until(name: &str, data: &Dataset, config: &FitConfig, dir: &Path, stop: Stop) {
    let model = build_model(name, 3, &Device::Cpu).unwrap();
    let mut save_error = None;
    let result = fit(model.as_ref(), data, None, config, &Device::Cpu, &mut |event| match event {
        TrainEvent::Checkpoint(state) => {
            if let Err(e) = save_checkpoint(dir, model.as_ref(), &info(name), config, state) {
                save_error = Some(e);
            }
            ControlFlow::Continue(())
        }
        TrainEvent::Epoch(s) if matches!(stop, Stop::AfterEpoch(e) if e == s.epoch) => ControlFlow::Break(()),
        TrainEvent::Batch(b) if matches!(stop, Stop::AtBatch { epoch, batch } if epoch == b.epoch && batch == b.batch) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    assert!(matches!(result, Err(Error::Aborted)), "{result:?}");
    assert!(save_error.is_none(), "{save_error:?}");
}

/// Stops a run at `stop`, resumes it from its folder, and checks the final
/// weights equal those of an uninterrupted run, bit for bit.
fn resumed_equals_uninterrupted(name: &str, images: usize, stop: Stop) {
    resumed_with_recipe_equals_uninterrupted(name, images, stop, &FitConfig { epochs: 3, batch_size: 32, ..FitConfig::default() });
}

/// [`resumed_equals_uninterrupted`] with `config` (3 epochs); returns the
/// checkpoint the run resumed from.
pub(crate) fn resumed_with_recipe_equals_uninterrupted(name: &str, images: usize, stop: Stop, config: &FitConfig) -> Checkpoint {
    let data = mnist(Split::Train, images);
    let config = config.clone();
    let straight = build_model(name, 3, &Device::Cpu).unwrap();
    let straight_history = fit(straight.as_ref(), &data, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap();

    // A folder per run: tests on one model run at once on the test threads.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = temp_dir(&format!("checkpoint-{name}-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    train_until(name, &data, &config, &dir, stop);
    let (resumed, checkpoint) = load_checkpoint(&dir, &Device::Cpu).unwrap();
    assert_eq!(checkpoint.config, config);
    let history = fit_from(resumed.as_ref(), &data, None, &checkpoint.config, &Device::Cpu, Some(&checkpoint.state), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(weights(resumed.as_ref()), weights(straight.as_ref()), "{name}: resumed weights differ");
    // The epochs finished after resuming report what the uninterrupted run did.
    let last = history.last().unwrap();
    assert_eq!(last.epoch, 3);
    assert!((last.loss - straight_history[2].loss).abs() < 1e-9, "{} vs {}", last.loss, straight_history[2].loss);
    checkpoint
}

#[test]
fn other_optimizers_and_schedules_resume_exactly() {
    let recipe =
        |given: &[(&str, Value)]| FitConfig::from_settings(3, 32, 0, &RecipeSettings::new(given.iter().cloned()).unwrap()).unwrap();
    let adamw = recipe(&[
        ("optimizer", "adamw".into()),
        ("weightDecay", 0.05.into()),
        ("schedule", "cosine".into()),
        ("warmupEpochs", 1usize.into()),
    ]);
    // 96 images in batches of 32: stopped after 3 + 2 updates.
    let checkpoint = resumed_with_recipe_equals_uninterrupted("lenet5", 96, Stop::AtBatch { epoch: 2, batch: 2 }, &adamw);
    assert_eq!(checkpoint.config, adamw, "the recipe survives the checkpoint");
    assert_eq!(checkpoint.state.optimizer_step, 5);
    let (model, _) = load_checkpoint(&checkpoint.path, &Device::Cpu).unwrap();
    let names: Vec<&String> = checkpoint.state.optimizer.iter().map(|(n, _)| n).collect();
    for p in model.parameters() {
        for slot in ["exp_avg", "exp_avg_sq"] {
            assert!(names.contains(&&format!("{slot}.{}", p.name)), "{slot} of {} is in the checkpoint", p.name);
        }
    }
    assert_eq!(names.len(), 2 * model.parameters().len());
    let sgd = recipe(&[
        ("momentum", 0.9.into()),
        ("nesterov", true.into()),
        ("weightDecay", 0.001.into()),
        ("schedule", "step".into()),
        ("stepGamma", 0.5.into()),
    ]);
    resumed_with_recipe_equals_uninterrupted("lenet5", 96, Stop::AfterEpoch(1), &sgd);
}

#[test]
fn googlenet_resumed_after_an_epoch_equals_an_uninterrupted_run() {
    resumed_equals_uninterrupted("googlenet", 192, Stop::AfterEpoch(1));
}

#[test]
fn googlenet_resumed_mid_epoch_equals_an_uninterrupted_run() {
    resumed_equals_uninterrupted("googlenet", 192, Stop::AtBatch { epoch: 2, batch: 4 });
}

#[test]
fn every_zoo_model_resumes_exactly() {
    for entry in googlenet_core::model::CATALOG.iter().filter(|e| e.name != "googlenet") {
        // Mid-epoch, and for batch norm models after an epoch too: the
        // running statistics are part of the checkpoint.
        resumed_equals_uninterrupted(entry.name, 96, Stop::AtBatch { epoch: 2, batch: 2 });
        if entry.depth.is_some() {
            resumed_equals_uninterrupted(entry.name, 96, Stop::AfterEpoch(2));
        }
    }
}

#[test]
fn a_folder_resumes_from_its_furthest_checkpoint() {
    let data = mnist(Split::Train, 96);
    let config = FitConfig { epochs: 3, batch_size: 32, ..FitConfig::default() };
    let dir = temp_dir("checkpoint-latest");
    train_until("lenet5", &data, &config, &dir, Stop::AtBatch { epoch: 2, batch: 2 });
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    // No temporary files are left behind.
    assert_eq!(names, ["checkpoint-e0001-b00002.safetensors", "checkpoint-e0001.safetensors"]);
    assert!(latest_checkpoint(&dir).unwrap().ends_with("checkpoint-e0001-b00002.safetensors"));
    let (_, checkpoint) = load_checkpoint(&dir, &Device::Cpu).unwrap();
    assert_eq!((checkpoint.state.epochs_done, checkpoint.state.batches_done), (1, 2));
    assert_eq!(checkpoint.state.history.len(), 1);
    let epoch = &checkpoint.state.history[0];
    assert_eq!(epoch.epoch, 1);
    assert_eq!(EpochSummary::from_json(&epoch.to_json()).as_ref(), Ok(epoch), "the history survives its JSON");
    // A checkpoint's weights load as a model too.
    let (model, info) = load_model(&latest_checkpoint(&dir).unwrap(), &Device::Cpu).unwrap();
    assert_eq!((model.name(), info.epochs), ("lenet5", 1));
}

fn load_error(path: &Path) -> String {
    load_checkpoint(path, &Device::Cpu).err().expect("loading should fail").to_string()
}

#[test]
fn damaged_or_mismatched_checkpoints_fail_clearly() {
    let data = mnist(Split::Train, 64);
    let config = FitConfig { epochs: 2, batch_size: 32, ..FitConfig::default() };
    let dir = temp_dir("checkpoint-damaged");
    train_until("lenet5", &data, &config, &dir, Stop::AfterEpoch(1));
    let file = latest_checkpoint(&dir).unwrap();
    let bytes = std::fs::read(&file).unwrap();

    let cut = dir.join("cut").join("checkpoint-e0001.safetensors");
    std::fs::create_dir_all(cut.parent().unwrap()).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(cut.parent().unwrap());
    assert!(err.contains("cut/checkpoint-e0001.safetensors") && err.contains("not a complete safetensors checkpoint file"), "{err}");

    let model_file = dir.join("model.safetensors");
    save_model(build_model("lenet5", 0, &Device::Cpu).unwrap().as_ref(), &info("lenet5"), &model_file).unwrap();
    assert!(load_error(&model_file).contains("is a model file, not a training checkpoint"));

    let empty = temp_dir("checkpoint-empty");
    assert!(load_error(&empty).contains("holds no checkpoint"));

    // Resuming on other data than the checkpoint's is refused before training.
    let (model, checkpoint) = load_checkpoint(&file, &Device::Cpu).unwrap();
    let other = mnist(Split::Train, 96);
    let err = fit_from(model.as_ref(), &other, None, &checkpoint.config, &Device::Cpu, Some(&checkpoint.state), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("trained on 64 images, this training set has 96"), "{err}");
    // A finished run has nothing left to resume.
    let done = FitConfig { epochs: 1, ..checkpoint.config.clone() };
    let err = fit_from(model.as_ref(), &data, None, &done, &Device::Cpu, Some(&checkpoint.state), &mut |_| ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("finished 1 of 1 epochs"), "{err}");
}
