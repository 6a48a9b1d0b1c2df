#!/usr/bin/env bash
# Installs the CUDA 13.0 build tools that the `cuda` feature needs (nvcc,
# the runtime headers and the libraries candle links against) from PyPI
# wheels into .cuda/ at the repository root, once, and prints the
# environment to use them:
#
#   eval "$(scripts/cuda-toolkit.sh)"   # then: cargo build --features cuda, npm run build:cuda
#
# 13.0 on purpose: candle loads its kernels as PTX, which the driver
# compiles at run time, and a driver only reads PTX from its own CUDA
# version or older. The GPU machine's driver is 13.0.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$PWD/.cuda
cu=$prefix/nvidia/cu13
if [ ! -x "$cu/bin/nvcc" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$prefix" \
    nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 \
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88 \
    nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35 >&2
fi
# The wheels ship versioned libraries only; the linker wants plain names.
for lib in cudart cublas cublasLt curand nvrtc; do
  target=$(cd "$cu/lib" && ls "lib$lib.so."* | grep -v builtins | head -n 1)
  ln -sf "$target" "$cu/lib/lib$lib.so"
done
# The driver library (libcuda) comes with the NVIDIA driver, not with any
# wheel. Link against a stub that defines every function of cuda.h, with
# the driver's soname: at run time the real libcuda.so.1 is loaded instead.
if [ ! -f "$cu/lib/stubs/libcuda.so" ]; then
  mkdir -p "$cu/lib/stubs"
  gcc -E -P -I "$cu/include" "$cu/include/cuda.h" | tr '\n' ' ' \
    | grep -oE 'CUresult +cu[A-Za-z0-9_]+ *\(' | sed -E 's/CUresult +//; s/ *\(//' | sort -u \
    | sed -E 's/.*/int &(void) { return 999; }/' >"$cu/lib/stubs/libcuda-stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$cu/lib/stubs/libcuda.so" "$cu/lib/stubs/libcuda-stub.c"
fi
echo "export CUDA_ROOT=$cu CUDA_PATH=$cu CUDA_COMPUTE_CAP=\${CUDA_COMPUTE_CAP:-90}"
echo "export PATH=$cu/bin:\$PATH"
echo "export LIBRARY_PATH=$cu/lib:$cu/lib/stubs\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
