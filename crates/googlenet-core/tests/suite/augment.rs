//! Data augmentation: all off is the identity and trains exactly as
//! before; crop, flip and rotation each do what torchvision's do, pixel by
//! pixel on small made-up images; every image's draw depends on (seed,
//! epoch, index) alone, so an augmented run resumed mid-epoch ends with an
//! uninterrupted run's weights; the options are checked and kept.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::checkpoint::{resumed_with_recipe_equals_uninterrupted, Stop};
use crate::common::mnist;
use candle_core::Device;
use googlenet_core::data::{augment, sample_rng, Augmentation, Dataset, EpochAugmentation, ImageShape, Split, Transform};
use googlenet_core::engine::Engine;
use googlenet_core::model::{build_model, build_model_from_spec, Model, ModelSpec};
use googlenet_core::options::{specs_of, Command, Value};
use googlenet_core::train::{cross_entropy_loss, fit, CandleOptimizer, FitConfig, RecipeSettings};
use googlenet_core::Error;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const ON: Augmentation = Augmentation { crop_padding: 2, flip: true, max_rotation_degrees: 10.0 };

/// A made-up image of `shape` whose pixels all differ from their
/// neighbours and from 0 (the fill), so a misplaced pixel shows.
fn image(shape: ImageShape) -> Vec<u8> {
    (0..shape.bytes()).map(|i| (i * 37 % 251 + 1) as u8).collect()
}

fn transformed(t: Transform, image: &[u8], shape: ImageShape) -> Vec<u8> {
    let mut out = vec![0; shape.bytes()];
    t.apply(image, shape, &mut out);
    out
}

const STILL: Transform = Transform { degrees: 0.0, shift: [0, 0], flip: false };

#[test]
fn off_is_the_identity() {
    let shape = ImageShape { channels: 3, height: 7, width: 5 };
    let original = image(shape);
    let off = Augmentation::default();
    assert!(off.is_off());
    for changed in
        [Augmentation { crop_padding: 1, ..off }, Augmentation { flip: true, ..off }, Augmentation { max_rotation_degrees: 1.0, ..off }]
    {
        assert!(!changed.is_off(), "{changed:?}");
    }
    for seed in 0..20 {
        let mut rng = sample_rng(seed, 1, 0);
        assert_eq!(off.draw(&mut rng.clone()), STILL);
        let mut out = vec![0; shape.bytes()];
        augment(&original, shape, &off, &mut rng, &mut out);
        assert_eq!(out, original);
    }
}

#[test]
fn a_crop_shifts_by_the_offset_drawn() {
    let shape = ImageShape { channels: 2, height: 6, width: 5 };
    let (h, w) = (6i32, 5i32);
    let original = image(shape);
    let at =
        |c: i32, y: i32, x: i32| if (0..h).contains(&y) && (0..w).contains(&x) { original[(c * h * w + y * w + x) as usize] } else { 0 };
    let crop = Augmentation { crop_padding: 2, ..Augmentation::default() };
    let mut seen = HashMap::new();
    for seed in 0..200 {
        let rng = sample_rng(seed, 3, 11);
        let drawn = crop.draw(&mut rng.clone());
        assert_eq!((drawn.degrees, drawn.flip), (0.0, false));
        *seen.entry(drawn.shift).or_insert(0) += 1;
        let mut out = vec![0; shape.bytes()];
        augment(&original, shape, &crop, &mut rng.clone(), &mut out);
        // The crop at offset (oy, ox) of the image padded by p: pixel (y, x) is the image's (y + oy − p, x + ox − p).
        let [dy, dx] = drawn.shift;
        for (i, &got) in out.iter().enumerate() {
            let (c, y, x) = (i as i32 / (h * w), i as i32 / w % h, i as i32 % w);
            assert_eq!(got, at(c, y + dy, x + dx), "shift {:?}, channel {c}, pixel ({y}, {x})", drawn.shift);
        }
    }
    // Offsets in [0, 2p]²: every shift in [−2, 2]² came up, and no other.
    assert_eq!(seen.len(), 25, "{seen:?}");
    assert!(seen.keys().all(|s| s.iter().all(|d| (-2..=2).contains(d))));
    // One by hand: shifted down-left by (1, −2), the top row and the last
    // two columns are out of the image, and the rest moves up and right.
    let grey = ImageShape { channels: 1, height: 3, width: 4 };
    let out = transformed(Transform { shift: [-1, 2], ..STILL }, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], grey);
    assert_eq!(out, [0, 0, 0, 0, 3, 4, 0, 0, 7, 8, 0, 0]);
}

#[test]
fn a_flip_mirrors_every_channel_half_the_time() {
    let shape = ImageShape { channels: 3, height: 4, width: 5 };
    let original = image(shape);
    let out = transformed(Transform { flip: true, ..STILL }, &original, shape);
    for (row, mirrored) in original.chunks(5).zip(out.chunks(5)) {
        assert!(row.iter().rev().eq(mirrored.iter()), "{row:?} against {mirrored:?}");
    }
    let flip = Augmentation { flip: true, ..Augmentation::default() };
    let flips = (0..1000).filter(|&i| flip.draw(&mut sample_rng(0, 1, i)).flip).count();
    assert!((440..560).contains(&flips), "{flips} of 1000 flipped");
}

/// `image` (square planes of side `n`) turned a quarter counter-clockwise:
/// output (i, j) is input (j, n − 1 − i), a transpose and a vertical flip.
fn quarter_turn(image: &[u8], n: usize) -> Vec<u8> {
    let mut out = vec![0; image.len()];
    for (src, dst) in image.chunks(n * n).zip(out.chunks_mut(n * n)) {
        for i in 0..n {
            for j in 0..n {
                dst[i * n + j] = src[j * n + n - 1 - i];
            }
        }
    }
    out
}

#[test]
fn a_quarter_turn_is_a_transpose_and_a_flip() {
    for (channels, n) in [(1, 9), (3, 8)] {
        let shape = ImageShape { channels, height: n, width: n };
        let original = image(shape);
        let turned = transformed(Transform { degrees: 90.0, ..STILL }, &original, shape);
        let expected = quarter_turn(&original, n);
        let back = transformed(Transform { degrees: -90.0, ..STILL }, &expected, shape);
        for p in 0..shape.bytes() {
            let (y, x) = (p / n % n, p % n);
            if (1..n - 1).contains(&y) && (1..n - 1).contains(&x) {
                assert!(turned[p].abs_diff(expected[p]) <= 1, "{n}×{n}, pixel ({y}, {x}): {} against {}", turned[p], expected[p]);
                assert!(back[p].abs_diff(original[p]) <= 1, "{n}×{n}, −90° back, pixel ({y}, {x})");
            }
        }
    }
}

#[test]
fn a_rotation_interpolates_and_fills_with_zeros() {
    let shape = ImageShape { channels: 1, height: 9, width: 9 };
    let grey = vec![200u8; 81];
    let turned = transformed(Transform { degrees: 30.0, ..STILL }, &grey, shape);
    // Bilinear weights add up to 1 inside; the corners turn in from outside the image.
    assert_eq!(turned[4 * 9 + 4], 200);
    assert_eq!(turned[3 * 9 + 5], 200);
    assert_eq!([turned[0], turned[8], turned[72], turned[80]], [0; 4]);
    // About the centre of an even side, 180° samples fall on pixels again.
    let row = ImageShape { channels: 1, height: 2, width: 2 };
    assert_eq!(transformed(Transform { degrees: 180.0, ..STILL }, &[10, 20, 30, 40], row), [40, 30, 20, 10]);
    let rotate = Augmentation { max_rotation_degrees: 10.0, ..Augmentation::default() };
    let angles: Vec<f32> = (0..500).map(|i| rotate.draw(&mut sample_rng(1, 1, i)).degrees).collect();
    assert!(angles.iter().all(|a| (-10.0..=10.0).contains(a)), "angles in [−10, 10]");
    assert!(angles.iter().any(|&a| a < -9.0) && angles.iter().any(|&a| a > 9.0), "angles across the range");
}

#[test]
fn rotation_comes_first_then_the_crop_then_the_flip() {
    let shape = ImageShape { channels: 2, height: 6, width: 6 };
    let original = image(shape);
    let all = Transform { degrees: 90.0, shift: [1, -2], flip: true };
    let rotated = transformed(Transform { degrees: 90.0, ..STILL }, &original, shape);
    let shifted = transformed(Transform { shift: [1, -2], ..STILL }, &rotated, shape);
    let flipped = transformed(Transform { flip: true, ..STILL }, &shifted, shape);
    assert_eq!(transformed(all, &original, shape), flipped);
}

#[test]
fn each_image_draws_by_seed_epoch_and_index_alone() {
    let data = mnist(Split::Train, 64);
    let shape = data.shape();
    let one = |seed, epoch, index| {
        let mut out = vec![0; shape.bytes()];
        augment(data.image(index), shape, &ON, &mut sample_rng(seed, epoch, index), &mut out);
        out
    };
    assert_eq!(one(5, 2, 7), one(5, 2, 7));
    let differ = |other: &dyn Fn(usize) -> Vec<u8>| (0..64).filter(|&i| other(i) != one(5, 2, i)).count();
    assert!(differ(&|i| one(5, 3, i)) >= 60, "another epoch draws other images");
    assert!(differ(&|i| one(6, 2, i)) >= 60, "another seed draws other images");
    // A batch is its images drawn one by one, whatever else is in it and
    // however many threads make it.
    let epoch = EpochAugmentation { augmentation: &ON, seed: 5, epoch: 2 };
    let indices = [9, 3, 40, 3, 63];
    let expected: Vec<u8> = indices.iter().flat_map(|&i| one(5, 2, i)).collect();
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        assert_eq!(pool.install(|| epoch.images(&data, &indices)), expected, "{threads} threads");
    }
    assert_eq!(epoch.images(&data, &[40]), one(5, 2, 40));
}

/// Layers the CPU engine declines (a 3×3 max pool, a 2×2 average pool):
/// `fit` trains this model through candle.
fn declined() -> ModelSpec {
    ModelSpec::parse(
        r#"{"format":"googlenet-native/model","version":1,"name":"g","input":[1,28,28],"layers":[
            {"type":"conv2d","name":"stem","outChannels":4,"kernel":3,"padding":1},{"type":"maxPool","kernel":3},
            {"type":"avgPool","kernel":2},{"type":"relu"},{"type":"globalAvgPool"},{"type":"linear","name":"fc","outFeatures":10}]}"#,
    )
    .unwrap()
}

type MakeModel = fn() -> Box<dyn Model>;

/// The two training paths of the CPU: lenet5 on the engine, [`declined`] on candle.
fn models() -> [(&'static str, MakeModel); 2] {
    [
        ("engine", || build_model("lenet5", 4, &Device::Cpu).unwrap()),
        ("candle", || build_model_from_spec(&declined(), 4, &Device::Cpu).unwrap()),
    ]
}

fn weights(model: &dyn Model) -> Vec<Vec<f32>> {
    model.parameters().iter().chain(model.buffers()).map(|p| p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()).collect()
}

fn fitted(model: &dyn Model, data: &Dataset, config: &FitConfig) -> Vec<Vec<f32>> {
    fit(model, data, None, config, &Device::Cpu, &mut |_| ControlFlow::Continue(())).unwrap();
    weights(model)
}

/// `fit`'s loop written out with the primitives that trained before there
/// was augmentation: the seeded shuffle, then per batch the samples
/// gathered and one step, on the engine when it plans `model`, else
/// through candle. With augmentation on, each batch's images are first
/// augmented one by one with [`augment`] into a dataset of their own.
fn by_hand(model: &dyn Model, data: &Dataset, config: &FitConfig) -> Vec<Vec<f32>> {
    model.set_training(true);
    let normalization = model.data_info().normalization.clone();
    let mut engine = Engine::for_model(model).unwrap();
    let mut candle = CandleOptimizer::new(model.vars(), config.optimizer).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        for indices in order.chunks(config.batch_size) {
            let (batch, indices) = if config.augmentation.is_off() {
                (data.clone(), indices.to_vec())
            } else {
                let mut bytes = vec![0; indices.len() * data.shape().bytes()];
                for (&i, out) in indices.iter().zip(bytes.chunks_mut(data.shape().bytes())) {
                    augment(data.image(i), data.shape(), &config.augmentation, &mut sample_rng(config.seed, epoch, i), out);
                }
                let labels = indices.iter().map(|&i| data.labels()[i]).collect();
                (Dataset::with_classes(bytes, labels, data.shape(), Some(data.classes().to_vec())).unwrap(), (0..indices.len()).collect())
            };
            match &mut engine {
                Some(engine) => {
                    let (images, labels) = batch.gather(&indices, &normalization);
                    engine.set_training(true);
                    engine.train_step(&images, &labels, &config.optimizer, config.lr as f32).unwrap();
                }
                None => {
                    let batch = batch.batch(&indices, &normalization, &Device::Cpu).unwrap();
                    let loss = cross_entropy_loss(&model.forward(&batch.images).unwrap(), &batch.labels, 0.0).unwrap();
                    candle.step(&loss.backward().unwrap(), config.lr).unwrap();
                }
            }
        }
    }
    if let Some(engine) = engine {
        engine.store(model).unwrap();
    }
    weights(model)
}

#[test]
fn off_trains_exactly_as_before() {
    let data = mnist(Split::Train, 96);
    let config = FitConfig { epochs: 2, batch_size: 32, ..FitConfig::default() };
    assert!(config.augmentation.is_off(), "off by default");
    let given_off = FitConfig::from_given(&vec![
        ("epochs".into(), Value::Number(2.0)),
        ("batchSize".into(), Value::Number(32.0)),
        ("cropPadding".into(), Value::Number(0.0)),
        ("flip".into(), Value::Flag(false)),
        ("rotation".into(), Value::Number(0.0)),
    ])
    .unwrap();
    assert_eq!(given_off, config);
    for (path, make) in models() {
        assert_eq!(fitted(make().as_ref(), &data, &config), by_hand(make().as_ref(), &data, &config), "{path}");
    }
}

#[test]
fn fit_augments_the_training_images_on_both_paths() {
    let data = mnist(Split::Train, 96);
    let off = FitConfig { epochs: 2, batch_size: 32, ..FitConfig::default() };
    let on = FitConfig { augmentation: ON, ..off.clone() };
    for (path, make) in models() {
        let augmented = fitted(make().as_ref(), &data, &on);
        assert_eq!(augmented, by_hand(make().as_ref(), &data, &on), "{path}: fit trains on the images augment draws");
        assert_ne!(augmented, fitted(make().as_ref(), &data, &off), "{path}: augmentation changes what is learned");
    }
}

#[test]
fn an_augmented_run_resumed_mid_epoch_equals_an_uninterrupted_one() {
    let config = FitConfig { epochs: 3, batch_size: 32, augmentation: ON, ..FitConfig::default() };
    // 96 images in batches of 32: stopped after 3 + 2 of 9 batches.
    let checkpoint = resumed_with_recipe_equals_uninterrupted("lenet5", 96, Stop::AtBatch { epoch: 2, batch: 2 }, &config);
    assert_eq!(checkpoint.config.augmentation, ON, "the checkpoint keeps the augmentation");
}

fn given(options: &[(&str, Value)]) -> Result<FitConfig, Error> {
    FitConfig::from_given(&options.iter().map(|(n, v)| (n.to_string(), v.clone())).collect())
}

#[test]
fn the_options_are_declared_last_in_the_recipe_and_checked() {
    let recipe: Vec<&str> = specs_of(Command::Fit).filter(|s| s.recipe).map(|s| s.name).collect();
    assert_eq!(recipe[recipe.len() - 3..], ["cropPadding", "flip", "rotation"]);
    let config = given(&[("cropPadding", 2usize.into()), ("flip", true.into()), ("rotation", 10.0.into())]).unwrap();
    assert_eq!(config.augmentation, ON);
    let refused = |name: &str, value: Value| match given(&[(name, value)]) {
        Err(Error::InvalidOption(e)) => e,
        other => panic!("{name}: {other:?}"),
    };
    for bad in [17.0, -1.0, 1.5] {
        let e = refused("cropPadding", bad.into());
        assert!(e.to_string().starts_with("cropPadding must be an integer in [0, 16]") && !e.wrong_type, "{e}");
    }
    for bad in [180.5, -1.0, f64::NAN, f64::INFINITY] {
        let e = refused("rotation", bad.into());
        assert!(e.to_string().starts_with("rotation must be a finite number in [0, 180]") && !e.wrong_type, "{e}");
    }
    assert!(refused("flip", 1.0.into()).wrong_type);
    assert!(refused("cropPadding", "2".into()).wrong_type);
    // A recipe made in code is held to the same rules.
    let wide = FitConfig { augmentation: Augmentation { crop_padding: 17, ..ON }, ..FitConfig::default() };
    assert!(matches!(wide.validate(), Err(Error::InvalidOption(e)) if e.option == "cropPadding"));
}

#[test]
fn checkpoints_keep_the_options() {
    let config = given(&[("cropPadding", 3usize.into()), ("flip", true.into()), ("rotation", 0.1.into())]).unwrap();
    let entries = config.settings().entries();
    let kept: Vec<(String, Option<String>)> = entries
        .iter()
        .filter(|(n, _, _)| ["cropPadding", "flip", "rotation"].contains(n))
        .map(|(_, k, v)| (k.clone(), v.clone()))
        .collect();
    let text = |s: &str| Some(s.to_string());
    // The angle, an f32, as given: not 0.10000000149011612.
    assert_eq!(kept, [("crop_padding".into(), text("3")), ("flip".into(), text("true")), ("rotation".into(), text("0.1"))]);
    let metadata: HashMap<String, String> = entries.iter().filter_map(|(_, k, v)| Some((k.clone(), v.clone()?))).collect();
    let back = RecipeSettings::from_metadata(|k| metadata.get(k)).unwrap();
    assert_eq!(FitConfig::from_settings(config.epochs, config.batch_size, config.seed, &back).unwrap(), config);
    // A checkpoint from before augmentation reads as augmentation off.
    let older: HashMap<String, String> =
        metadata.into_iter().filter(|(k, _)| !["crop_padding", "flip", "rotation"].contains(&k.as_str())).collect();
    let back = RecipeSettings::from_metadata(|k| older.get(k)).unwrap();
    assert!(FitConfig::from_settings(1, 64, 0, &back).unwrap().augmentation.is_off());
    // A resumed run may not change it.
    let other = given(&[("cropPadding", 3usize.into()), ("flip", true.into()), ("rotation", 5.0.into())]).unwrap();
    let err = other.check_continues(&config).unwrap_err().to_string();
    assert!(err.contains("rotation 5 differs from the checkpoint's 0.1"), "{err}");
}
