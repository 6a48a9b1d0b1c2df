use googlenet_core::data::ImageShape;
use std::ops::ControlFlow;

use crate::common::mnist;
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use googlenet_core::data::{Dataset, Split};
use googlenet_core::model::build_model;
use googlenet_core::options::{spec, Command, Value};
use googlenet_core::train::{
    benchmark, evaluate, evaluate_with_predictions, fit, predict_probabilities, BenchConfig, CandleOptimizer, EpochSummary, FitConfig,
    Optimizer, RecipeSettings, SgdSettings, TrainEvent,
};
use googlenet_core::Error;

/// The reference recipe's SGD, which tests vary one setting of.
const SGD: SgdSettings = SgdSettings { momentum: 0.5, nesterov: false, weight_decay: 0.0 };

fn grads_for(var: &Var, grad: &[f32]) -> GradStore {
    // d(sum(var · g))/d var = g.
    let g = Tensor::new(grad, &Device::Cpu).unwrap();
    (var.as_tensor() * g).unwrap().sum_all().unwrap().backward().unwrap()
}

#[test]
fn sgd_with_momentum_matches_hand_computed_steps() {
    let var = Var::new(&[1.0f32, -2.0], &Device::Cpu).unwrap();
    let mut sgd = CandleOptimizer::new(vec![var.clone()], Optimizer::Sgd(SgdSettings { momentum: 0.5, ..SGD })).unwrap();
    // Step 1: buf = g = [1, 2]; p = [1, -2] - 0.1·[1, 2] = [0.9, -2.2].
    sgd.step(&grads_for(&var, &[1.0, 2.0]), 0.1).unwrap();
    let p = var.to_vec1::<f32>().unwrap();
    assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 2.2).abs() < 1e-6, "{p:?}");
    // Step 2: buf = 0.5·[1, 2] + [3, -4] = [3.5, -3]; p = [0.9 - 0.35, -2.2 + 0.3] = [0.55, -1.9].
    sgd.step(&grads_for(&var, &[3.0, -4.0]), 0.1).unwrap();
    let p = var.to_vec1::<f32>().unwrap();
    assert!((p[0] - 0.55).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6, "{p:?}");
}

#[test]
fn sgd_refuses_bad_hyperparameters() {
    let sgd = |lr: f64, momentum: f64| {
        RecipeSettings::new([("lr", Value::from(lr)), ("momentum", momentum.into())]).and_then(|s| FitConfig::from_settings(1, 1, 0, &s))
    };
    for (lr, momentum) in [(0.0, 0.5), (-0.1, 0.5), (f64::NAN, 0.5), (f64::INFINITY, 0.5), (0.1, 1.0), (0.1, -0.1)] {
        assert!(matches!(sgd(lr, momentum), Err(Error::InvalidOption(_))), "{lr} {momentum}");
    }
    // The rule as the binding exports it, and the message that names it.
    assert_eq!(spec(Command::Fit, "lr").unwrap().rule(), "a finite number > 0");
    assert_eq!(spec(Command::Fit, "momentum").unwrap().rule(), "a finite number in [0, 1)");
    let msg = sgd(0.1, f64::NAN).err().unwrap().to_string();
    assert!(msg.contains("momentum must be a finite number in [0, 1) (got NaN)"), "{msg}");
    let var = Var::new(&[1.0f32], &Device::Cpu).unwrap();
    let bad = Optimizer::Sgd(SgdSettings { momentum: 2.0, ..SGD });
    assert!(matches!(CandleOptimizer::new(vec![var], bad), Err(Error::InvalidOption(_))));
}

#[test]
fn a_resumed_run_keeps_its_recipe_but_its_epochs() {
    let recorded = FitConfig { epochs: 3, ..FitConfig::default() };
    assert!(FitConfig { epochs: 5, ..recorded.clone() }.check_continues(&recorded).is_ok());
    let refused = |config: FitConfig| config.check_continues(&recorded).err().unwrap().to_string();
    assert_eq!(
        refused(FitConfig { lr: 0.5, ..recorded.clone() }),
        "lr 0.5 differs from the checkpoint's 0.01: a resumed run keeps its recipe"
    );
    assert!(refused(FitConfig { batch_size: 32, ..recorded.clone() }).contains("batch size 32 differs from the checkpoint's 64"));
    let momentum = Optimizer::Sgd(SgdSettings { momentum: 0.9, ..SGD });
    assert!(refused(FitConfig { optimizer: momentum, ..recorded.clone() }).contains("momentum 0.9 differs from the checkpoint's 0.5"));
    assert!(refused(FitConfig { seed: 7, ..recorded.clone() }).contains("seed 7 differs from the checkpoint's 0"));
}

/// Trains a fresh model and returns every batch loss and the epoch summaries.
fn run(train: &Dataset, test: Option<&Dataset>, config: &FitConfig, model_seed: u64) -> (Vec<f32>, Vec<EpochSummary>) {
    let model = build_model("googlenet", model_seed, &Device::Cpu).unwrap();
    let mut losses = Vec::new();
    let history = fit(model.as_ref(), train, test, config, &Device::Cpu, &mut |event| {
        if let TrainEvent::Batch(b) = event {
            losses.push(b.loss);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (losses, history)
}

#[test]
fn a_short_run_learns() {
    let train = mnist(Split::Train, 1280);
    let test = mnist(Split::Test, 500);
    // Five times the reference learning rate, so 40 batches are enough to see it learn.
    let config = FitConfig { epochs: 2, lr: 0.05, ..FitConfig::default() };
    let (losses, history) = run(&train, Some(&test), &config, 1);
    assert_eq!(losses.len(), 2 * 20);
    let first: f32 = losses[..5].iter().sum::<f32>() / 5.0;
    let last: f32 = losses[35..].iter().sum::<f32>() / 5.0;
    assert!(last < first * 0.8, "loss did not fall: {first} -> {last}");
    let result = history[1].test.unwrap();
    assert_eq!(result.total, 500);
    assert!(result.accuracy > 0.5, "accuracy {}", result.accuracy);
    assert!(history[1].loss < history[0].loss);
}

#[test]
fn the_same_seed_gives_the_same_losses() {
    let train = mnist(Split::Train, 320);
    let config = FitConfig { epochs: 2, batch_size: 32, ..FitConfig::default() };
    let (a, _) = run(&train, None, &config, 3);
    let (b, _) = run(&train, None, &config, 3);
    assert_eq!(a, b);
    let (c, _) = run(&train, None, &FitConfig { seed: 4, ..config.clone() }, 3);
    assert_ne!(a, c, "another shuffle seed must give another loss sequence");
}

#[test]
fn the_last_batch_may_be_partial() {
    let train = mnist(Split::Train, 100);
    let (losses, history) = run(&train, None, &FitConfig { epochs: 1, ..FitConfig::default() }, 1);
    assert_eq!(losses.len(), 2);
    assert!(history[0].test.is_none());
    assert!((history[0].train_images_per_sec * history[0].seconds - 100.0).abs() < 1e-6);
}

#[test]
fn breaking_from_the_callback_aborts() {
    let train = mnist(Split::Train, 640);
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let mut batches = 0;
    let result = fit(model.as_ref(), &train, None, &FitConfig::default(), &Device::Cpu, &mut |event| {
        if let TrainEvent::Batch(_) = event {
            batches += 1;
        }
        if batches == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert!(matches!(result, Err(Error::Aborted)));
    assert_eq!(batches, 3);
}

#[test]
fn bad_configs_are_refused() {
    let train = mnist(Split::Train, 10);
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let go = |config: FitConfig, data: &Dataset| {
        fit(model.as_ref(), data, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).err().unwrap()
    };
    assert!(matches!(go(FitConfig { epochs: 0, ..FitConfig::default() }, &train), Error::InvalidOption(_)));
    assert!(matches!(go(FitConfig { batch_size: 0, ..FitConfig::default() }, &train), Error::InvalidOption(_)));
    assert!(matches!(go(FitConfig { lr: f64::NAN, ..FitConfig::default() }, &train), Error::InvalidOption(_)));
    let small = Dataset::new(vec![0; 2 * 20 * 20], vec![1, 2], 20, 20).unwrap();
    let msg = go(FitConfig::default(), &small).to_string();
    assert_eq!(msg, "model \"googlenet\" takes 28x28 images (got 20x20)");
    let empty = Dataset::new(Vec::new(), Vec::new(), 28, 28).unwrap();
    assert_eq!(go(FitConfig::default(), &empty).to_string(), "train must not be empty");
}

#[test]
fn a_diverging_run_stops_with_a_clear_error() {
    let train = mnist(Split::Train, 640);
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let config = FitConfig { lr: 1e6, optimizer: Optimizer::Sgd(SgdSettings { momentum: 0.9, ..SGD }), ..FitConfig::default() };
    let err = fit(model.as_ref(), &train, None, &config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Diverged(_)) && msg.contains("epoch 1, batch") && msg.contains("smaller learning rate"), "{msg}");
}

#[test]
fn evaluate_and_predict_agree() {
    let test = mnist(Split::Test, 300);
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    let result = evaluate(model.as_ref(), &test, 128, &Device::Cpu).unwrap();
    assert_eq!(result.total, 300);
    assert!((result.accuracy - result.correct as f64 / 300.0).abs() < 1e-12);
    assert!(result.loss > 0.0);
    let pixels: Vec<f32> = (0..300).flat_map(|i| test.image(i).iter().map(|&p| p as f32 / 255.0).collect::<Vec<_>>()).collect();
    let probs =
        predict_probabilities(model.as_ref(), &pixels, 300, ImageShape { channels: 1, height: 28, width: 28 }, &Device::Cpu).unwrap();
    assert_eq!(probs.len(), 3000);
    let (detailed, predictions) = evaluate_with_predictions(model.as_ref(), &test, 64, &Device::Cpu).unwrap();
    assert_eq!((detailed.correct, detailed.total), (result.correct, result.total));
    assert!((detailed.loss - result.loss).abs() < 1e-6);
    let mut correct = 0;
    for (i, row) in probs.chunks(10).enumerate() {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let label = row.iter().enumerate().fold((0, f32::MIN), |best, (j, &p)| if p > best.1 { (j, p) } else { best }).0;
        assert_eq!(label, predictions[i] as usize, "image {i}");
        correct += (label == test.labels()[i] as usize) as usize;
    }
    assert_eq!(correct, result.correct);
}

#[test]
fn benchmark_reports_both_throughputs_and_refuses_empty_runs() {
    let data = mnist(Split::Train, 100);
    let model = build_model("googlenet", 1, &Device::Cpu).unwrap();
    // Batches wrap around the 100 images; no figure is asserted on, only that one was measured.
    let config = BenchConfig { batch_size: 64, batches: 3, warmup: 1, latency_calls: 7 };
    let r = benchmark(model.as_ref(), &data, &config, &Device::Cpu).unwrap();
    assert!(r.train_images_per_sec > 0.0 && r.infer_images_per_sec > 0.0, "{r:?}");
    let latency = r.latency.expect("latency calls were asked for");
    assert_eq!(latency.calls, 7);
    assert!(latency.median_secs > 0.0 && latency.median_secs <= latency.p99_secs, "{latency:?}");
    let without = benchmark(model.as_ref(), &data, &BenchConfig { latency_calls: 0, ..config.clone() }, &Device::Cpu).unwrap();
    assert_eq!(without.latency, None);
    // The summary's MACs (DESIGN.md §1), and the CPU path it ran on.
    assert_eq!(r.macs_per_image, 6_019_200);
    assert!((r.train_gflops() - r.train_images_per_sec * 6_019_200.0 * 6.0 / 1e9).abs() < 1e-9);
    let cpu = r.cpu.expect("a CPU run reports its path");
    assert_eq!(cpu.isa, googlenet_core::cpu::isa());
    assert!(cpu.threads >= 1 && cpu.peak_gflops > 0.0, "{cpu:?}");
    let none = BenchConfig { batches: 0, ..config };
    assert!(matches!(benchmark(model.as_ref(), &data, &none, &Device::Cpu), Err(Error::InvalidArgument(_))));
}
