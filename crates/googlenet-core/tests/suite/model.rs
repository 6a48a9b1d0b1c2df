use candle_core::{Device, Tensor};
use googlenet_core::model::{build_model, Model};
use googlenet_core::Error;

fn googlenet(seed: u64) -> Box<dyn Model> {
    build_model("googlenet", seed, &Device::Cpu).unwrap()
}

#[test]
fn has_pytorchs_parameters_names_and_shapes() {
    let model = googlenet(1);
    assert_eq!(model.param_count(), 97_298);
    let params: Vec<(String, Vec<usize>)> = model.parameters().iter().map(|p| (p.name.clone(), p.var.dims().to_vec())).collect();
    assert_eq!(params.len(), 34);
    let inception = |p: &str, cin: usize| {
        vec![
            (format!("{p}.branch1x1.weight"), vec![16, cin, 1, 1]),
            (format!("{p}.branch1x1.bias"), vec![16]),
            (format!("{p}.branch5x5_1.weight"), vec![16, cin, 1, 1]),
            (format!("{p}.branch5x5_1.bias"), vec![16]),
            (format!("{p}.branch5x5_2.weight"), vec![24, 16, 5, 5]),
            (format!("{p}.branch5x5_2.bias"), vec![24]),
            (format!("{p}.branch3x3_1.weight"), vec![16, cin, 1, 1]),
            (format!("{p}.branch3x3_1.bias"), vec![16]),
            (format!("{p}.branch3x3_2.weight"), vec![24, 16, 3, 3]),
            (format!("{p}.branch3x3_2.bias"), vec![24]),
            (format!("{p}.branch3x3_3.weight"), vec![24, 24, 3, 3]),
            (format!("{p}.branch3x3_3.bias"), vec![24]),
            (format!("{p}.branch_pool.weight"), vec![24, cin, 1, 1]),
            (format!("{p}.branch_pool.bias"), vec![24]),
        ]
    };
    // In the order the layers appear in the description (the zoo's spec).
    let mut expected = vec![("conv1.weight".to_string(), vec![10, 1, 5, 5]), ("conv1.bias".to_string(), vec![10])];
    expected.extend(inception("incep1", 10));
    expected.push(("conv2.weight".to_string(), vec![20, 88, 5, 5]));
    expected.push(("conv2.bias".to_string(), vec![20]));
    expected.extend(inception("incep2", 20));
    expected.push(("fc.weight".to_string(), vec![10, 1408]));
    expected.push(("fc.bias".to_string(), vec![10]));
    assert_eq!(params, expected);
}

#[test]
fn every_layer_has_the_reference_output_shape() {
    let model = googlenet(1);
    let x = Tensor::zeros((3, 1, 28, 28), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert_eq!(model.forward(&x).unwrap().dims(), &[3, 10]);
    let mut seen = Vec::new();
    let per_batch = |shape: &[usize]| [&[3], shape].concat();
    googlenet_core::model::trace(model.description(), 28, 28, &mut |name, shape| seen.push((name.to_string(), per_batch(shape)))).unwrap();
    let expected: Vec<(&str, Vec<usize>)> = vec![
        ("conv1", vec![3, 10, 24, 24]),
        ("pool1", vec![3, 10, 12, 12]),
        ("incep1.branch1x1", vec![3, 16, 12, 12]),
        ("incep1.branch5x5_1", vec![3, 16, 12, 12]),
        ("incep1.branch5x5_2", vec![3, 24, 12, 12]),
        ("incep1.branch3x3_1", vec![3, 16, 12, 12]),
        ("incep1.branch3x3_2", vec![3, 24, 12, 12]),
        ("incep1.branch3x3_3", vec![3, 24, 12, 12]),
        ("incep1.branch_pool", vec![3, 24, 12, 12]),
        ("incep1", vec![3, 88, 12, 12]),
        ("conv2", vec![3, 20, 8, 8]),
        ("pool2", vec![3, 20, 4, 4]),
        ("incep2.branch1x1", vec![3, 16, 4, 4]),
        ("incep2.branch5x5_1", vec![3, 16, 4, 4]),
        ("incep2.branch5x5_2", vec![3, 24, 4, 4]),
        ("incep2.branch3x3_1", vec![3, 16, 4, 4]),
        ("incep2.branch3x3_2", vec![3, 24, 4, 4]),
        ("incep2.branch3x3_3", vec![3, 24, 4, 4]),
        ("incep2.branch_pool", vec![3, 24, 4, 4]),
        ("incep2", vec![3, 88, 4, 4]),
        ("flatten", vec![3, 1408]),
        ("fc", vec![3, 10]),
    ];
    let seen: Vec<(&str, Vec<usize>)> = seen.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    assert_eq!(seen, expected);
}

#[test]
fn init_follows_pytorchs_bounds_and_the_seed() {
    let a = googlenet(7);
    for p in a.parameters() {
        let fan_in: usize = if p.name == "fc.weight" || p.name == "fc.bias" {
            1408
        } else {
            // The conv weight of the same layer gives in × k × k.
            let weight = a.parameters().iter().find(|q| q.name == p.name.replace(".bias", ".weight")).unwrap();
            weight.var.dims()[1..].iter().product()
        };
        let bound = 1.0 / (fan_in as f32).sqrt();
        let v = p.var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(v.iter().all(|x| x.abs() <= bound), "{} exceeds ±{bound}", p.name);
        if v.len() >= 1000 {
            // A uniform draw fills its range: the largest |w| is close to the bound.
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!(max > 0.95 * bound, "{}: max {max} vs bound {bound}", p.name);
        }
    }
    let same = googlenet(7).parameters()[0].var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let other = googlenet(8).parameters()[0].var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let first = a.parameters()[0].var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(first, same);
    assert_ne!(first, other);
}

#[test]
fn unknown_model_names_are_refused() {
    let err = build_model("alexnet", 1, &Device::Cpu).err().expect("must fail");
    assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("alexnet") && m.contains("googlenet")), "{err}");
}

#[test]
fn wrong_input_size_fails() {
    let model = googlenet(1);
    let x = Tensor::zeros((1, 1, 20, 20), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(model.forward(&x).is_err());
}

#[test]
fn summary_totals_are_pytorchs_parameters_and_the_designs_macs() {
    use googlenet_core::model::summarize;
    let model = googlenet(1);
    let rows = summarize(model.description()).unwrap();
    let params: usize = rows.iter().map(|r| r.params).sum();
    let macs: u64 = rows.iter().map(|r| r.macs).sum();
    // DESIGN.md §1: 97,298 parameters (PyTorch's count), 6.02 M MACs per image.
    assert_eq!(params, 97_298);
    assert_eq!(macs, 6_019_200);
    let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
    assert_eq!((row("conv1").output_shape.clone(), row("conv1").params, row("conv1").macs), (vec![10, 24, 24], 260, 144_000));
    assert_eq!(row("incep1.branch5x5_2").macs, 24 * 16 * 25 * 144);
    assert_eq!((row("incep1").params, row("incep1").macs), (0, 0));
    assert_eq!((row("fc").output_shape.clone(), row("fc").macs), (vec![10], 14_080));
}

#[test]
fn a_trace_names_the_layer_that_does_not_fit() {
    use googlenet_core::model::trace;
    let model = googlenet(1);
    let mut seen = Vec::new();
    let err = trace(model.description(), 20, 20, &mut |name, shape| seen.push((name.to_string(), shape.to_vec()))).unwrap_err().to_string();
    assert_eq!(err, "layer fc takes N×1408 features (out 10), got [1, 352]");
    // Every layer before the one that failed was reported.
    assert_eq!(seen.first(), Some(&("conv1".to_string(), vec![10, 16, 16])));
    assert_eq!(seen.last(), Some(&("flatten".to_string(), vec![352])));
    let err = trace(model.description(), 12, 12, &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.starts_with("layer conv2 (5×5 conv, 88→20 channels, padding 0) takes N×88×H×W with H, W ≥ 5, got [1, 88, 4, 4]"), "{err}");
}

#[test]
fn lenet5_and_residual_have_the_tutorials_layers() {
    use googlenet_core::model::{build_model, summarize};
    let expect = |name: &str, params: usize, rows: &[(&str, &[usize])]| {
        let model = build_model(name, 0, &Device::Cpu).unwrap();
        assert_eq!(model.param_count(), params, "{name}");
        let summary = summarize(model.description()).unwrap();
        let seen: Vec<(&str, &[usize])> = summary.iter().map(|l| (l.name.as_str(), l.output_shape.as_slice())).collect();
        assert_eq!(seen, rows, "{name}");
        assert_eq!(summary.iter().map(|l| l.params).sum::<usize>(), params);
    };
    expect(
        "lenet5",
        61_706,
        &[
            ("conv1", &[6, 28, 28]),
            ("pool1", &[6, 14, 14]),
            ("conv2", &[16, 10, 10]),
            ("pool2", &[16, 5, 5]),
            ("flatten", &[400]),
            ("fc1", &[120]),
            ("fc2", &[84]),
            ("fc3", &[10]),
        ],
    );
    expect(
        "residual",
        41_514,
        &[
            ("conv1", &[16, 24, 24]),
            ("pool1", &[16, 12, 12]),
            ("rblock1.conv1", &[16, 12, 12]),
            ("rblock1.conv2", &[16, 12, 12]),
            ("rblock1", &[16, 12, 12]),
            ("conv2", &[32, 8, 8]),
            ("pool2", &[32, 4, 4]),
            ("rblock2.conv1", &[32, 4, 4]),
            ("rblock2.conv2", &[32, 4, 4]),
            ("rblock2", &[32, 4, 4]),
            ("flatten", &[512]),
            ("fc", &[10]),
        ],
    );
}

#[test]
fn the_residual_block_adds_its_input_before_the_last_relu() {
    use googlenet_core::model::spec::Step;
    use googlenet_core::model::{build_model, load_weights, lower, ModelSpec, Network};
    // With every rblock1 weight and bias zero, conv2(relu(conv1(x))) = 0, so
    // the block must pass relu(x) = x (x is already ≥ 0 after pool1) on: the
    // model computes what the same network without rblock1 does.
    let model = build_model("residual", 3, &Device::Cpu).unwrap();
    for p in model.parameters().iter().filter(|p| p.name.starts_with("rblock1.")) {
        p.var.set(&p.var.zeros_like().unwrap()).unwrap();
    }
    let rblock2 = Step::sequential(vec![
        Step::residual(Step::sequential(vec![Step::conv2d("conv1", 32, 3, 1, 1), Step::relu(), Step::conv2d("conv2", 32, 3, 1, 1)]), None),
        Step::relu(),
    ]);
    let layers = Step::sequential(vec![
        Step::conv2d("conv1", 16, 5, 1, 0),
        Step::max_pool(2).named("pool1"),
        Step::relu(),
        Step::conv2d("conv2", 32, 5, 1, 0),
        Step::max_pool(2).named("pool2"),
        Step::relu(),
        rblock2.named("rblock2"),
        Step::flatten(),
        Step::linear("fc", 10),
    ]);
    let spec = ModelSpec { name: "residual-without-rblock1".into(), input: [1, 28, 28], layers };
    let without = Network::new(lower(&spec).unwrap(), 0, &Device::Cpu).unwrap();
    let weights =
        model.parameters().iter().filter(|p| !p.name.starts_with("rblock1.")).map(|p| (p.name.clone(), p.var.as_tensor().clone()));
    load_weights(&without, &weights.collect()).unwrap();
    let x = Tensor::randn(0f32, 1.0, (2, 1, 28, 28), &Device::Cpu).unwrap();
    let logits = |m: &dyn Model| m.forward(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(logits(model.as_ref()), logits(&without));
}
