//! The optimizers and learning-rate schedules against `torch.optim`: the
//! fixtures of scripts/make-optimizer-fixtures.py replay PyTorch's
//! gradients through the flat update (the CPU engine's) and the candle one
//! (CUDA's), and both must end where PyTorch did, step by step, within
//! 1e-5; the schedule's rates must be PyTorch's. The reference recipe's SGD
//! must compute exactly what it did before there was a choice.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor, Var};
use googlenet_core::options::Value;
use googlenet_core::train::{CandleOptimizer, FitConfig, Optimizer, RecipeSettings, SgdSettings};
use googlenet_core::Error;

struct Fixture {
    name: String,
    config: FitConfig,
    batches: usize,
    tensors: HashMap<String, Tensor>,
}

impl Fixture {
    fn values(&self, key: &str) -> Vec<f32> {
        self.tensors[key].flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    /// Row `t` of a (steps × …) tensor, flattened.
    fn row(&self, key: &str, t: usize) -> Vec<f32> {
        self.tensors[key].get(t).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    fn steps(&self) -> usize {
        self.tensors["lrs"].dims()[0]
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/optimizers");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let fixtures: Vec<Fixture> = paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
            let metadata = header.metadata().clone().unwrap_or_default();
            let settings = RecipeSettings::from_metadata(|key| metadata.get(key)).unwrap();
            let number = |key: &str| metadata[key].parse::<usize>().unwrap();
            let config = FitConfig::from_settings(number("epochs"), 1, 0, &settings).unwrap();
            let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).unwrap().into_iter().collect();
            Fixture { name: path.file_stem().unwrap().to_string_lossy().into_owned(), config, batches: number("batches"), tensors }
        })
        .collect();
    assert_eq!(fixtures.len(), 12, "one fixture per case of the script");
    fixtures
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len());
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!((a - b).abs() <= 1e-5, "{what}: value {i} is {a}, PyTorch's {b}");
    }
}

#[test]
fn every_schedule_gives_pytorchs_learning_rates() {
    for f in fixtures() {
        let theirs = f.tensors["lrs"].to_vec1::<f64>().unwrap();
        for (t, theirs) in theirs.iter().enumerate() {
            let ours = f.config.lr_at(t, f.batches);
            assert!((ours - theirs).abs() <= 1e-9, "{}: step {t}: lr {ours}, PyTorch's {theirs}", f.name);
        }
    }
}

#[test]
fn the_flat_update_follows_pytorch_step_by_step() {
    for f in fixtures() {
        let (init, lens) = (["init.0", "init.1"].map(|k| f.values(k)), [12, 5]);
        let mut params: Vec<f32> = init.concat();
        let mut state = Vec::new();
        for t in 0..f.steps() {
            let grads = [f.row("grads.0", t), f.row("grads.1", t)].concat();
            let lr = f.config.lr_at(t, f.batches) as f32;
            f.config.optimizer.update(&mut params, &grads, &mut state, t as u64 + 1, lr);
            let theirs = [f.row("params.0", t), f.row("params.1", t)].concat();
            assert_close(&params, &theirs, &format!("{} (flat) after step {}", f.name, t + 1));
        }
        assert_eq!(state.len(), f.config.optimizer.slots().len());
        assert!(state.iter().all(|s| s.len() == lens.iter().sum::<usize>()));
    }
}

#[test]
fn the_candle_update_follows_pytorch_step_by_step() {
    for f in fixtures() {
        let vars = ["init.0", "init.1"].map(|k| Var::from_tensor(&f.tensors[k]).unwrap());
        let mut optimizer = CandleOptimizer::new(vars.to_vec(), f.config.optimizer).unwrap();
        for t in 0..f.steps() {
            // d(Σ var·g)/d var = g.
            let terms = ["grads.0", "grads.1"]
                .iter()
                .zip(&vars)
                .map(|(k, v)| (v.as_tensor() * f.tensors[*k].get(t).unwrap()).unwrap().sum_all().unwrap())
                .collect::<Vec<_>>();
            let grads = (&terms[0] + &terms[1]).unwrap().backward().unwrap();
            optimizer.step(&grads, f.config.lr_at(t, f.batches)).unwrap();
            for (i, var) in vars.iter().enumerate() {
                let ours = var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                assert_close(&ours, &f.row(&format!("params.{i}"), t), &format!("{} (candle) after step {}", f.name, t + 1));
            }
        }
        assert_eq!(optimizer.step_count(), f.steps() as u64);
    }
}

#[test]
fn the_reference_sgd_computes_what_it_always_did() {
    // The engine's update before there was a choice of optimizer, verbatim:
    // buf = μ·buf + g (the first buf is g), p −= lr·buf, in f32.
    let (lr, momentum) = (0.01f32, 0.5f32);
    let mut old_params: Vec<f32> = (0..257).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
    let mut new_params = old_params.clone();
    let (mut old_buf, mut state): (Option<Vec<f32>>, Vec<Vec<f32>>) = (None, Vec::new());
    let config = FitConfig::default();
    assert_eq!(config.optimizer, Optimizer::Sgd(SgdSettings { momentum: 0.5, nesterov: false, weight_decay: 0.0 }));
    for step in 0..5u64 {
        let grads: Vec<f32> = (0..257).map(|i| (((i as u64 * 53 + step * 29) % 97) as f32 - 48.0) / 31.0).collect();
        let direction = match &mut old_buf {
            Some(buf) => {
                buf.iter_mut().zip(&grads).for_each(|(b, g)| *b = momentum * *b + g);
                buf
            }
            None => old_buf.insert(grads.clone()),
        };
        old_params.iter_mut().zip(direction.iter()).for_each(|(p, d)| *p -= lr * d);
        // The constant schedule hands the lr over untouched.
        let new_lr = config.lr_at(step as usize, 3) as f32;
        assert_eq!(new_lr.to_bits(), lr.to_bits());
        config.optimizer.update(&mut new_params, &grads, &mut state, step + 1, new_lr);
        assert!(old_params.iter().zip(&new_params).all(|(a, b)| a.to_bits() == b.to_bits()), "step {step}");
    }
}

/// The recipe of the settings `given` by their names in the API.
fn recipe(epochs: usize, given: &[(&str, Value)]) -> Result<FitConfig, Error> {
    let settings = RecipeSettings::new(given.iter().cloned())?;
    FitConfig::from_settings(epochs, 8, 0, &settings)
}

#[test]
fn settings_that_do_not_apply_or_break_a_rule_are_refused() {
    let refused = |given: &[(&str, Value)]| recipe(3, given).unwrap_err().to_string();
    let adam = ("optimizer", Value::from("adam"));
    assert!(refused(&[("optimizer", "lamb".into())]).contains("optimizer must be one of sgd, adam, adamw (got \"lamb\")"));
    assert!(refused(&[adam.clone(), ("momentum", 0.9.into())]).contains("momentum does not apply to the adam optimizer"));
    assert!(refused(&[("beta1", 0.9.into())]).contains("beta1 does not apply to the sgd optimizer"));
    assert!(refused(&[("nesterov", true.into()), ("momentum", 0.0.into())]).contains("nesterov needs a momentum > 0"));
    assert!(refused(&[adam.clone(), ("beta2", 1.0.into())]).contains("beta2 must be a finite number in [0, 1) (got 1)"));
    assert!(refused(&[adam.clone(), ("eps", 0.0.into())]).contains("eps must be a finite number > 0 (got 0)"));
    assert!(refused(&[adam.clone(), ("weightDecay", (-1.0).into())]).contains("weightDecay must be a finite number >= 0 (got -1)"));
    assert!(refused(&[("stepGamma", 0.5.into())]).contains("stepGamma does not apply"));
    let step = ("schedule", Value::from("step"));
    assert!(refused(&[step.clone(), ("stepEpochs", 0usize.into())]).contains("stepEpochs must be an integer in [1, 4294967295] (got 0)"));
    assert!(refused(&[step.clone(), ("stepGamma", 2.0.into())]).contains("stepGamma must be a finite number in (0, 1] (got 2)"));
    assert!(refused(&[("warmupEpochs", 3usize.into())]).contains("warmupEpochs must be fewer than the epochs"));
    assert!(refused(&[("warmupStartFactor", 0.5.into())]).contains("warmupStartFactor does not apply"));
    assert!(refused(&[("warmupEpochs", 1usize.into()), ("warmupStartFactor", 0.0.into())])
        .contains("warmupStartFactor must be a finite number in (0, 1] (got 0)"));
    assert!(refused(&[("lr", "0.1".into())]).contains("lr must be a finite number > 0 (got \"0.1\")"));
    assert!(refused(&[("learningRate", 0.1.into())]).contains("learningRate is not a setting"));
    let nan = recipe(3, &[adam, ("eps", f64::NAN.into())]).unwrap_err();
    assert!(matches!(&nan, Error::InvalidOption(e) if e.option == "eps" && e.got.as_deref() == Some("NaN")), "{nan}");
}

#[test]
fn defaults_follow_the_optimizer_and_settings_round_trip() {
    let resolve = |name: &str| FitConfig::from_given(&vec![("optimizer".to_string(), Value::from(name))]).unwrap();
    assert_eq!(resolve("sgd"), FitConfig::default(), "the reference recipe");
    let adamw = resolve("adamw");
    assert_eq!(adamw.lr, 0.001);
    assert!(
        matches!(adamw.optimizer, Optimizer::AdamW(a) if a.weight_decay == 0.01 && a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8)
    );
    assert!(matches!(resolve("adam").optimizer, Optimizer::Adam(a) if a.weight_decay == 0.0));
    for f in fixtures() {
        let again = FitConfig::from_settings(f.config.epochs, 1, 0, &f.config.settings()).unwrap();
        assert_eq!(again, f.config, "{}", f.name);
    }
}

#[test]
fn a_cosine_run_resumes_only_with_its_planned_epochs() {
    let cosine = ("schedule", Value::from("cosine"));
    let recorded = recipe(3, std::slice::from_ref(&cosine)).unwrap();
    let longer = recipe(5, std::slice::from_ref(&cosine)).unwrap();
    let err = longer.check_continues(&recorded).unwrap_err().to_string();
    assert!(err.contains("epochs 5 differs from the checkpoint's 3: a cosine schedule"), "{err}");
    let other = recipe(3, &[("optimizer", "adam".into()), cosine]).unwrap();
    assert!(other.check_continues(&recorded).unwrap_err().to_string().contains("optimizer adam differs from the checkpoint's sgd"));
}
