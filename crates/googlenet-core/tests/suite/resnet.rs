//! The ResNet family: the five unit designs of He et al. 2016 (Fig. 4) and
//! BatchNorm against finite differences and PyTorch's running statistics.

use crate::common;

use candle_core::{DType, Device, Tensor, Var};
use googlenet_core::model::{build_model, catalog, summarize, trace, BatchNorm2d, Model, Op, UnitDesign, UnitStep};

/// The steps of unit `layer1.0` (identity shortcut) as the description has them.
fn unit_steps(model: &str) -> Vec<UnitStep> {
    let d = catalog::describe(model, None).unwrap();
    let last = (0..d.nodes.len()).find(|&id| d.step_name(id) == Some("layer1.0")).unwrap();
    // The unit's input is what its addition adds: the identity shortcut.
    let add = (0..=last).rev().find(|&id| d.nodes[id].op == Op::Add).unwrap();
    (d.nodes[add].inputs[1] + 1..=last)
        .map(|id| match d.nodes[id].op {
            Op::Relu => UnitStep::Relu,
            Op::Add => UnitStep::Add,
            Op::Layer(l) => match d.layers[l].name.as_str() {
                "layer1.0.conv1" => UnitStep::Conv1,
                "layer1.0.bn1" => UnitStep::Bn1,
                "layer1.0.conv2" => UnitStep::Conv2,
                "layer1.0.bn2" => UnitStep::Bn2,
                other => panic!("{other} in the unit"),
            },
            other => panic!("{other} in the unit"),
        })
        .collect()
}

#[test]
fn each_design_orders_bn_relu_and_addition_as_the_paper() {
    use UnitStep::*;
    let expected: [(UnitDesign, &str, &[UnitStep]); 5] = [
        // (a) original: addition before the final ReLU.
        (UnitDesign::Original, "resnet-original", &[Conv1, Bn1, Relu, Conv2, Bn2, Add, Relu]),
        // (b) BN after addition.
        (UnitDesign::BnAfterAdd, "resnet-bn-after-add", &[Conv1, Bn1, Relu, Conv2, Add, Bn2, Relu]),
        // (c) ReLU before addition: the residual path ends activated.
        (UnitDesign::ReluBeforeAdd, "resnet-relu-before-add", &[Conv1, Bn1, Relu, Conv2, Bn2, Relu, Add]),
        // (d) ReLU-only pre-activation: ReLU first, BN after each conv.
        (UnitDesign::ReluOnlyPreact, "resnet-relu-only-preact", &[Relu, Conv1, Bn1, Relu, Conv2, Bn2, Add]),
        // (e) full pre-activation: BN and ReLU before each conv, nothing after the addition.
        (UnitDesign::FullPreact, "resnet-full-preact", &[Bn1, Relu, Conv1, Bn2, Relu, Conv2, Add]),
    ];
    for (design, name, steps) in expected {
        assert_eq!(design.steps(), steps, "{name}");
        assert_eq!(unit_steps(name), steps, "{name}");
    }
}

#[test]
fn every_design_builds_traces_and_counts_its_parameters() {
    for design in ["resnet-original", "resnet-bn-after-add", "resnet-relu-before-add", "resnet-relu-only-preact", "resnet-full-preact"] {
        let name = design.to_string();
        let model = build_model(&name, 0, &Device::Cpu).unwrap();
        assert_eq!(model.name(), name);
        let rows = summarize(model.description()).unwrap();
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), model.param_count(), "{name}: every parameter in one row");
        let shape = |layer: &str| rows.iter().find(|r| r.name == layer).map(|r| r.output_shape.clone());
        assert_eq!(shape("layer1.0"), Some(vec![16, 28, 28]), "{name}");
        assert_eq!(shape("layer2.0"), Some(vec![32, 14, 14]), "{name}");
        assert_eq!(shape("layer3.0"), Some(vec![64, 7, 7]), "{name}");
        assert_eq!(shape("fc"), Some(vec![10]), "{name}");
        // Running mean and variance of every BN layer are kept as buffers.
        let bns = model.parameters().iter().filter(|p| p.name.contains("bn") && p.name.ends_with(".weight")).count();
        assert_eq!(model.buffers().len(), 2 * bns, "{name}");
    }
    assert_eq!(build_model("resnet", 0, &Device::Cpu).unwrap().name(), "resnet-original");
}

#[test]
fn depth_is_resolved_and_refused_by_the_catalog_rule() {
    let resnet = catalog::find("resnet").unwrap();
    assert_eq!(resnet.name, "resnet-original");
    let rule = resnet.depth.unwrap();
    assert_eq!(resnet.resolve_depth(None).unwrap(), Some(rule.default));
    assert_eq!(resnet.resolve_depth(Some(rule.max)).unwrap(), Some(rule.max));
    for bad in [rule.min - 1, rule.max + 1] {
        let message = resnet.resolve_depth(Some(bad)).unwrap_err().to_string();
        assert!(message.contains(&format!("must be {} to {} units per stage (got {bad})", rule.min, rule.max)), "{message}");
    }
    let lenet = catalog::find("lenet5").unwrap();
    assert_eq!(lenet.resolve_depth(None).unwrap(), None);
    assert!(lenet.resolve_depth(Some(1)).unwrap_err().to_string().contains("model 'lenet5' has a fixed depth"));
    let unknown = catalog::find("alexnet").err().unwrap().to_string();
    assert!(unknown.contains("unknown model 'alexnet' (known: googlenet, "), "{unknown}");
}

#[test]
fn a_resumed_run_keeps_its_checkpoints_model_under_any_of_its_names() {
    assert!(catalog::check_resumed_model(Some("resnet"), Some(2), "resnet-original", Some(2)).is_ok());
    assert!(catalog::check_resumed_model(None, None, "lenet5", None).is_ok());
    let refused =
        |asked, depth, actual, actual_depth| catalog::check_resumed_model(asked, depth, actual, actual_depth).unwrap_err().to_string();
    assert_eq!(refused(Some("lenet5"), None, "googlenet", None), "model \"lenet5\" differs from the checkpoint's \"googlenet\"");
    assert_eq!(refused(None, Some(3), "resnet-full-preact", Some(2)), "depth 3 differs from the checkpoint's 2");
    assert!(refused(None, Some(1), "lenet5", None).contains("the checkpoint's lenet5 has a fixed depth"));
    assert!(refused(Some("alexnet"), None, "lenet5", None).contains("unknown model 'alexnet'"));
}

#[test]
fn the_trace_follows_the_units_steps() {
    // In (b) the second BN comes after the addition, so its output is the
    // unit's sum; in (a) the unit's output is relu(bn2 + x).
    let model = build_model("resnet-bn-after-add", 1, &Device::Cpu).unwrap();
    let mut order = Vec::new();
    trace(model.description(), 28, 28, &mut |name, _| order.push(name.to_string())).unwrap();
    let unit: Vec<&str> = order.iter().filter(|n| n.starts_with("layer1.0")).map(|s| s.as_str()).collect();
    assert_eq!(unit, ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.conv2", "layer1.0.bn2", "layer1.0"]);
}

fn batch_norm(channels: usize, training: bool) -> (BatchNorm2d, Var, Var, Var, Var) {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let dev = &Device::Cpu;
    let weight = Var::from_tensor(&Tensor::randn(1f64, 0.3, channels, dev).unwrap()).unwrap();
    let bias = Var::from_tensor(&Tensor::randn(0f64, 0.3, channels, dev).unwrap()).unwrap();
    let mean = Var::from_tensor(&Tensor::zeros(channels, DType::F64, dev).unwrap()).unwrap();
    let var = Var::from_tensor(&Tensor::ones(channels, DType::F64, dev).unwrap()).unwrap();
    let bn = BatchNorm2d::new("bn".into(), weight.clone(), bias.clone(), mean.clone(), var.clone(), Arc::new(AtomicBool::new(training)));
    (bn, weight, bias, mean, var)
}

/// Σ y·r for a fixed random r: a scalar whose gradient reaches every input.
fn loss(bn: &BatchNorm2d, x: &Tensor, r: &Tensor) -> Tensor {
    (bn.forward(x).unwrap() * r).unwrap().sum_all().unwrap()
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    // f64 throughout, so central differences are accurate to ~1e-9.
    let (c, n, h, w) = (3, 4, 3, 2);
    for training in [true, false] {
        let x = Var::from_tensor(&Tensor::randn(0.5f64, 2.0, (c, n, h, w), &Device::Cpu).unwrap()).unwrap();
        let r = Tensor::randn(0f64, 1.0, (c, n, h, w), &Device::Cpu).unwrap();
        let (bn, weight, bias, mean, var) = batch_norm(c, training);
        if !training {
            // Evaluation normalizes with running statistics, constants here.
            mean.set(&Tensor::new(&[0.3f64, -0.2, 1.0], &Device::Cpu).unwrap()).unwrap();
            var.set(&Tensor::new(&[2.0f64, 0.5, 1.5], &Device::Cpu).unwrap()).unwrap();
        }
        let grads = loss(&bn, x.as_tensor(), &r).backward().unwrap();
        let eps = 1e-5;
        for var in [&x, &weight, &bias] {
            let analytic = grads.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let base = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            for i in 0..base.len() {
                let at = |delta: f64| {
                    let mut v = base.clone();
                    v[i] += delta;
                    var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
                    loss(&bn, x.as_tensor(), &r).to_scalar::<f64>().unwrap()
                };
                let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
                var.set(&Tensor::from_vec(base.clone(), var.shape(), &Device::Cpu).unwrap()).unwrap();
                assert!(
                    (numeric - analytic[i]).abs() < 1e-6 * numeric.abs().max(1.0),
                    "training {training}, element {i}: {numeric} vs {}",
                    analytic[i]
                );
            }
        }
    }
}

#[test]
fn batch_norm_keeps_pytorchs_running_statistics_and_uses_them_in_evaluation() {
    let (c, n, h, w) = (2, 3, 2, 2);
    let x = Tensor::randn(3f64, 2.0, (c, n, h, w), &Device::Cpu).unwrap();
    let (bn, weight, bias, mean, var) = batch_norm(c, true);
    let y = bn.forward(&x).unwrap();
    // Training: each channel of (y − β)/γ has mean 0 and biased variance 1 − ε-ish.
    let values = x.reshape((c, n * h * w)).unwrap().to_vec2::<f64>().unwrap();
    let ys = y.reshape((c, n * h * w)).unwrap().to_vec2::<f64>().unwrap();
    let (g, b) = (weight.as_tensor().to_vec1::<f64>().unwrap(), bias.as_tensor().to_vec1::<f64>().unwrap());
    let (running_mean, running_var) = (mean.as_tensor().to_vec1::<f64>().unwrap(), var.as_tensor().to_vec1::<f64>().unwrap());
    for ch in 0..c {
        let m = values[ch].iter().sum::<f64>() / values[ch].len() as f64;
        let biased = values[ch].iter().map(|v| (v - m).powi(2)).sum::<f64>() / values[ch].len() as f64;
        let unbiased = biased * values[ch].len() as f64 / (values[ch].len() - 1) as f64;
        for (v, y) in values[ch].iter().zip(&ys[ch]) {
            assert!((y - (g[ch] * (v - m) / (biased + 1e-5).sqrt() + b[ch])).abs() < 1e-12);
        }
        // PyTorch: running = 0.9·running + 0.1·batch (unbiased variance), from 0 and 1.
        assert!((running_mean[ch] - 0.1 * m).abs() < 1e-12);
        assert!((running_var[ch] - (0.9 + 0.1 * unbiased)).abs() < 1e-12);
    }
    // Evaluation: the running statistics, and they stay put.
    let (bn_eval, weight, bias, mean, var) = batch_norm(c, false);
    mean.set(&Tensor::new(&[1.0f64, -1.0], &Device::Cpu).unwrap()).unwrap();
    var.set(&Tensor::new(&[4.0f64, 0.25], &Device::Cpu).unwrap()).unwrap();
    let y = bn_eval.forward(&x).unwrap().reshape((c, n * h * w)).unwrap().to_vec2::<f64>().unwrap();
    let (g, b) = (weight.as_tensor().to_vec1::<f64>().unwrap(), bias.as_tensor().to_vec1::<f64>().unwrap());
    for (ch, (m, v)) in [(1.0, 4.0), (-1.0, 0.25)].into_iter().enumerate() {
        for (x, y) in values[ch].iter().zip(&y[ch]) {
            assert!((y - (g[ch] * (x - m) / (v + 1e-5f64).sqrt() + b[ch])).abs() < 1e-12);
        }
    }
    assert_eq!(mean.as_tensor().to_vec1::<f64>().unwrap(), [1.0, -1.0]);
}

#[test]
fn fit_trains_and_evaluate_uses_running_statistics() {
    use googlenet_core::data::Split;
    use googlenet_core::train::{evaluate, fit, FitConfig};
    let train = common::mnist(Split::Train, 256);
    let test = common::mnist(Split::Test, 128);
    let model = build_model("resnet-full-preact", 0, &Device::Cpu).unwrap();
    let running = |m: &dyn Model| m.buffers()[0].var.as_tensor().to_vec1::<f32>().unwrap();
    let before = running(model.as_ref());
    let config = FitConfig { epochs: 1, batch_size: 64, ..FitConfig::default() };
    fit(model.as_ref(), &train, None, &config, &Device::Cpu, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
    let after = running(model.as_ref());
    assert_ne!(before, after, "training moves the running statistics");
    evaluate(model.as_ref(), &test, 64, &Device::Cpu).unwrap();
    assert_eq!(running(model.as_ref()), after, "evaluation leaves them alone");
}
