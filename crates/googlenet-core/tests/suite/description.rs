//! Model descriptions as JSON (docs/model-description.md): every zoo model
//! prints, parses back to itself and lowers to the zoo's own graph; every
//! rule and limit refuses with one line naming the JSON path at fault.

use googlenet_core::model::spec::{ModelSpec, MAX_NESTING, MAX_PARAMS, MAX_STEPS, MAX_TEXT_BYTES};
use googlenet_core::model::{lower, CATALOG, DEFAULT_MODEL};

/// A document around `layers` (JSON text), for the 28×28 digits.
fn doc(layers: &str) -> String {
    format!(r#"{{"format":"googlenet-native/model","version":1,"name":"t","input":[1,28,28],"layers":{layers}}}"#)
}

/// The error `text` gives, parsed and lowered.
fn error(text: &str) -> String {
    let result = ModelSpec::parse(text).and_then(|spec| lower(&spec));
    let message = result.expect_err("the description is refused").to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

const HEAD: &str = r#"{"type":"flatten"},{"type":"linear","name":"fc","outFeatures":10}"#;

#[test]
fn the_default_model_is_the_first_of_the_catalog() {
    assert_eq!(CATALOG[0].name, DEFAULT_MODEL, "listed first, as users see it");
}

#[test]
fn every_zoo_model_round_trips_and_lowers_to_its_own_graph() {
    for entry in CATALOG {
        let depths = entry.depth.map_or(vec![None], |r| vec![None, Some(r.max)]);
        for depth in depths {
            let spec = entry.spec(depth).unwrap();
            let parsed = ModelSpec::parse(&spec.to_json()).unwrap();
            assert_eq!(parsed, spec, "{}", entry.name);
            assert_eq!(lower(&parsed).unwrap(), entry.describe(depth).unwrap(), "{}", entry.name);
        }
    }
}

#[test]
fn names_nest_as_pytorch_nests_modules_and_channels_are_inferred() {
    let text = doc(&format!(
        r#"[{{"type":"conv2d","name":"stem","outChannels":8,"kernel":3,"padding":1}},
           {{"type":"concat","name":"block","branches":[
              {{"type":"conv2d","name":"a","outChannels":4,"kernel":1}},
              [{{"type":"maxPool","kernel":2}},{{"type":"conv2d","name":"b","outChannels":6,"kernel":3,"padding":1}},
               {{"type":"sequential","name":"up","steps":[{{"type":"conv2d","name":"c","outChannels":6,"kernel":1}}]}}]]}},
           {HEAD}]"#
    ));
    // The branches' sizes differ (28×28 and 14×14): the concatenation names itself and the shapes.
    assert_eq!(
        error(&text),
        "layers[1]: the concatenation takes N×C×H×W inputs of one height and width; the branches' outputs are [[1, 4, 28, 28], [1, 6, 14, 14]]"
    );
    let fixed = text.replace(r#"{"type":"maxPool","kernel":2},"#, "");
    let d = lower(&ModelSpec::parse(&fixed).unwrap()).unwrap();
    let params: Vec<(String, Vec<usize>)> = d.params().into_iter().map(|p| (p.name, p.shape)).collect();
    assert_eq!(
        params,
        [
            ("stem.weight", vec![8, 1, 3, 3]),
            ("stem.bias", vec![8]),
            ("block.a.weight", vec![4, 8, 1, 1]),
            ("block.a.bias", vec![4]),
            ("block.b.weight", vec![6, 8, 3, 3]),
            ("block.b.bias", vec![6]),
            ("block.up.c.weight", vec![6, 6, 1, 1]),
            ("block.up.c.bias", vec![6]),
            ("fc.weight", vec![10, 10 * 28 * 28]),
            ("fc.bias", vec![10]),
        ]
        .map(|(n, s)| (n.to_string(), s))
    );
    let steps: Vec<&str> = (0..d.nodes.len()).filter_map(|i| d.step_name(i)).collect();
    // A named block shows under its name unless its last step has one of its own (`up` ends in the layer `c`).
    assert_eq!(steps, ["stem", "block.a", "block.b", "block.up.c", "block", "fc"]);
}

#[test]
fn a_residual_adds_its_shortcut_or_its_input() {
    let unit = |shortcut: &str| {
        doc(&format!(
            r#"[{{"type":"conv2d","name":"stem","outChannels":4,"kernel":3,"padding":1}},
               {{"type":"residual","name":"unit","body":[{{"type":"conv2d","name":"conv","outChannels":8,"kernel":3,"stride":2,"padding":1}}]{shortcut}}},
               {{"type":"globalAvgPool"}},{{"type":"linear","name":"fc","outFeatures":10}}]"#
        ))
    };
    assert_eq!(
        error(&unit("")),
        "layers[1]: the addition takes inputs of one shape; the body's and the shortcut's outputs are [[1, 8, 14, 14], [1, 4, 28, 28]]"
    );
    let with = unit(r#","shortcut":{"type":"conv2d","name":"down","outChannels":8,"kernel":1,"stride":2}"#);
    let d = lower(&ModelSpec::parse(&with).unwrap()).unwrap();
    let names: Vec<String> = d.params().into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["stem.weight", "stem.bias", "unit.conv.weight", "unit.conv.bias", "unit.down.weight", "unit.down.bias", "fc.weight", "fc.bias"]
    );
}

#[test]
fn each_rule_names_the_json_path_at_fault() {
    let cases: &[(&str, &str)] = &[
        (r#"[{"type":"conv2d","name":"c","outChannels":4,"kernel":0}]"#, "layers[0].kernel: must be an integer from 1 to 15 (got 0)"),
        (
            r#"[{"type":"conv2d","name":"c","outChannels":4,"kernel":3,"padding":3}]"#,
            "layers[0].padding: must be an integer from 0 to 2 (got 3)",
        ),
        (
            r#"[{"type":"conv2d","name":"c","outChannels":4.5,"kernel":3}]"#,
            "layers[0].outChannels: must be an integer from 1 to 4096 (got 4.5)",
        ),
        (r#"[{"type":"conv2d","name":"c","outChannels":4,"kernal":3}]"#, "layers[0].kernel: missing (an integer from 1 to 15)"),
        (
            r#"[{"type":"conv2d","outChannels":4,"kernel":3}]"#,
            "layers[0]: a conv2d layer needs a name (its parameters are called <name>.weight, <name>.bias)",
        ),
        (r#"[{"type":"relu","inplace":true}]"#, "layers[0].inplace: unknown field (expected type, name)"),
        (r#"[{"type":"dropout"}]"#, "layers[0].type: unknown step type \"dropout\""),
        (r#"[{"type":"relu","name":"a..b"}]"#, "layers[0].name: must be dot-separated parts"),
        (
            r#"[{"type":"maxPool","kernel":3,"stride":2}]"#,
            "layers[0].stride: must equal kernel (3): only non-overlapping max pools are supported",
        ),
        (
            r#"[{"type":"avgPool","kernel":5,"stride":1,"padding":2}]"#,
            "layers[0]: average pools are supported with stride = kernel and no padding, or as kernel 3, stride 1, padding 1",
        ),
        (r#"[{"type":"concat","branches":[{"type":"relu"}]}]"#, "layers[0].branches: must hold at least 2 steps"),
        (r#"[]"#, "layers: must hold at least one step"),
        (r#"[{"type":"relu"}, 7]"#, "layers[1]: must be a step (an object with a \"type\", or an array of steps), not a number"),
        (r#"[{"type":"relu","name":"x"},{"type":"relu","name":"x"}]"#, "layers[1]: the name x is already taken (by layers[0])"),
        (
            r#"[{"type":"linear","name":"fc","outFeatures":10}]"#,
            "layers[0]: layer fc takes N×F features, got [1, 1, 28, 28]: flatten or globalAvgPool first",
        ),
        (r#"[{"type":"flatten"},{"type":"batchNorm","name":"bn"}]"#, "layers[1]: layer bn takes N×C×H×W maps, got [1, 784] features"),
        (
            r#"[{"type":"conv2d","name":"big","outChannels":4,"kernel":15,"stride":15},{"type":"conv2d","name":"c","outChannels":4,"kernel":5}]"#,
            "layers[1]: layer c (5×5 conv, 4→4 channels, padding 0) takes N×4×H×W with H, W ≥ 5, got [1, 4, 1, 1]",
        ),
        (
            r#"[{"type":"conv2d","name":"c","outChannels":4,"kernel":3}]"#,
            "layers: the last step gives [4, 26, 26] per image; a model ends in a vector of class scores",
        ),
    ];
    for (layers, expected) in cases {
        let message = error(&doc(layers));
        assert!(message.starts_with(expected), "{layers}\n  got:      {message}\n  expected: {expected}");
    }
    let document_cases: &[(&str, &str)] = &[
        ("[1, 2", "not a JSON model description: EOF while parsing"),
        (r#"{"format":"onnx"}"#, "format: must be \"googlenet-native/model\" (got \"onnx\")"),
        (r#"{"format":"googlenet-native/model","version":2}"#, "version: this build reads version 1 only (got 2)"),
        (
            r#"{"format":"googlenet-native/model","version":1,"name":"t","input":[1,28,0],"layers":[]}"#,
            "input[2]: width must be an integer from 1 to 1024 (got 0)",
        ),
        (
            r#"{"format":"googlenet-native/model","version":1,"name":"a b","input":[1,28,28],"layers":[]}"#,
            "name: must be 1 to 64 characters of A-Z a-z 0-9 _ - . (got \"a b\")",
        ),
        (
            r#"{"format":"googlenet-native/model","version":1,"name":"t","input":[1,28,28],"layers":[{"type":"relu"}],"extra":1}"#,
            "extra: unknown field (expected format, version, name, input, layers)",
        ),
    ];
    for (text, expected) in document_cases {
        let message = error(text);
        assert!(message.starts_with(expected), "{text}\n  got:      {message}\n  expected: {expected}");
    }
}

#[test]
fn hostile_descriptions_are_refused_before_anything_is_allocated() {
    // Nesting: arrays in arrays, past the limit (and far past serde's own recursion limit).
    let deep = |n: usize| doc(&format!("{}{{\"type\":\"relu\"}}{}", "[".repeat(n), "]".repeat(n)));
    assert!(error(&deep(MAX_NESTING + 1)).contains(&format!("steps nest more than {MAX_NESTING} deep")));
    assert!(error(&deep(100_000)).starts_with("not a JSON model description: recursion limit exceeded"));
    // Too many steps, each one valid.
    let many = doc(&format!("[{}]", vec![r#"{"type":"relu"}"#; MAX_STEPS + 1].join(",")));
    assert!(error(&many).contains(&format!("a model holds at most {MAX_STEPS} steps")), "{}", error(&many));
    // Parameters: a linear layer of 784 × 65,536 is 51 million, over the limit, and is refused before allocation.
    let wide = doc(r#"[{"type":"flatten"},{"type":"linear","name":"huge","outFeatures":65536}]"#);
    assert_eq!(error(&wide), format!("layers[1]: layer huge takes the model past {MAX_PARAMS} parameters"));
    // Activations: 4096 channels of 1024×1024 per image.
    let vast = r#"{"format":"googlenet-native/model","version":1,"name":"t","input":[1,1024,1024],"layers":[{"type":"conv2d","name":"c","outChannels":4096,"kernel":1}]}"#;
    assert!(error(vast).starts_with("layers[0]: outputs 4294967296 values per image"), "{}", error(vast));
    // Text size, before parsing.
    let long = format!("{}{}", doc(r#"[{"type":"relu"}]"#), " ".repeat(MAX_TEXT_BYTES));
    assert!(error(&long).starts_with(&format!("a model description is at most {MAX_TEXT_BYTES} bytes")));
}

#[test]
fn a_saved_model_carries_its_description_and_loads_without_code() {
    use candle_core::{Device, Tensor};
    use googlenet_core::model::{build_model_from_spec, load_model, save_model, ModelInfo};
    let text =
        doc(r#"[{"type":"conv2d","name":"stem","outChannels":6,"kernel":7,"padding":3},{"type":"batchNorm","name":"bn"},{"type":"relu"},
            {"type":"maxPool","kernel":2},{"type":"globalAvgPool","name":"pool"},{"type":"linear","name":"head","outFeatures":10}]"#);
    let spec = ModelSpec::parse(&text).unwrap();
    let model = build_model_from_spec(&spec, 7, &Device::Cpu).unwrap();
    let dir = std::env::temp_dir().join(format!("googlenet-description-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("custom.safetensors");
    save_model(model.as_ref(), &ModelInfo { model: "t".into(), epochs: 1, ..Default::default() }, &path).unwrap();
    let (loaded, info) = load_model(&path, &Device::Cpu).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(info.model, "t");
    assert_eq!(loaded.description(), model.description());
    let x = Tensor::randn(0f32, 1.0, (2, 1, 28, 28), &Device::Cpu).unwrap();
    let logits = |m: &dyn googlenet_core::model::Model| m.forward(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(logits(loaded.as_ref()), logits(model.as_ref()));
}
