//! With the `cuda` feature, compiles kernels/ops.cu to PTX (OUT_DIR/ops.ptx)
//! for compute capability $CUDA_COMPUTE_CAP (default 90, the H200) with
//! nvcc from $NVCC or PATH (`eval "$(scripts/cuda-toolkit.sh)"` provides one).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=kernels/ops.cu");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    if env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let cap = env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let nvcc = env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ops.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", &format!("-arch=sm_{cap}"), "kernels/ops.cu", "-o"])
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("the cuda feature needs nvcc ({nvcc}: {e}); run: eval \"$(scripts/cuda-toolkit.sh)\""));
    assert!(status.success(), "nvcc failed to compile kernels/ops.cu ({status})");
}
