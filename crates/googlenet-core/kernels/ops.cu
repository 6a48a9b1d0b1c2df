// CUDA twins of the CPU kernels in src/ops/: one thread per output element,
// f32, channel-major activations (C×N×H×W). Compiled to PTX by build.rs
// when the `cuda` feature is on, and launched through candle's custom ops.
// Each kernel writes every element it owns exactly once, so none needs
// atomics.

// Column matrix (C·k·k) × (N·oh·ow) of a stride-1 convolution with `pad`
// zeros around; rows are (channel, kernel row, kernel column) as PyTorch
// orders conv weights.
extern "C" __global__ void im2col_f32(const float *src, float *dst, int c, int n, int h, int w, int k, int pad) {
    const int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
    const long long row_len = (long long)n * oh * ow;
    const long long total = (long long)c * k * k * row_len;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const long long row = i / row_len, col = i % row_len;
        const int ch = row / (k * k), ki = (row / k) % k, kj = row % k;
        const int img = col / (oh * ow), oy = (col / ow) % oh, ox = col % ow;
        const int iy = oy + ki - pad, ix = ox + kj - pad;
        dst[i] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? src[(((long long)ch * n + img) * h + iy) * w + ix] : 0.0f;
    }
}

// The adjoint of im2col: each input pixel sums the column entries read from it.
extern "C" __global__ void col2im_f32(const float *src, float *dst, int c, int n, int h, int w, int k, int pad) {
    const int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
    const long long row_len = (long long)n * oh * ow;
    const long long total = (long long)c * n * h * w;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const int ix = i % w, iy = (i / w) % h;
        const long long plane = i / ((long long)h * w);
        const int img = plane % n, ch = plane / n;
        float sum = 0.0f;
        for (int ki = 0; ki < k; ++ki) {
            const int oy = iy - ki + pad;
            if (oy < 0 || oy >= oh) continue;
            for (int kj = 0; kj < k; ++kj) {
                const int ox = ix - kj + pad;
                if (ox < 0 || ox >= ow) continue;
                sum += src[((long long)ch * k * k + ki * k + kj) * row_len + ((long long)img * oh + oy) * ow + ox];
            }
        }
        dst[i] = sum;
    }
}

// 3×3 average pool, stride 1, zero padding 1, divisor always 9, over
// `planes` planes of h×w. Linear with a symmetric stencil: also its own adjoint.
extern "C" __global__ void avg_pool3x3_f32(const float *src, float *dst, int planes, int h, int w) {
    const long long total = (long long)planes * h * w;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const int x = i % w, y = (i / w) % h;
        const float *p = src + (i / ((long long)h * w)) * h * w;
        float sum = 0.0f;
        for (int dy = -1; dy <= 1; ++dy) {
            const int yy = y + dy;
            if (yy < 0 || yy >= h) continue;
            for (int dx = -1; dx <= 1; ++dx) {
                const int xx = x + dx;
                if (xx >= 0 && xx < w) sum += p[yy * w + xx];
            }
        }
        dst[i] = sum / 9.0f;
    }
}

// Index in the plane of the first maximum of the 2×2 window at (oy, ox),
// row by row, as PyTorch picks it.
__device__ int window_argmax(const float *p, int w, int oy, int ox) {
    const int top = 2 * oy * w + 2 * ox;
    const int candidates[4] = {top, top + 1, top + w, top + w + 1};
    int best = top;
    for (int j = 1; j < 4; ++j)
        if (p[candidates[j]] > p[best]) best = candidates[j];
    return best;
}

// relu(max_pool2d(x, 2)) over `planes` planes of h×w.
extern "C" __global__ void max_pool2x2_relu_f32(const float *src, float *dst, int planes, int h, int w) {
    const int oh = h / 2, ow = w / 2;
    const long long total = (long long)planes * oh * ow;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const int ox = i % ow, oy = (i / ow) % oh;
        const float *p = src + (i / ((long long)oh * ow)) * h * w;
        dst[i] = fmaxf(p[window_argmax(p, w, oy, ox)], 0.0f);
    }
}

// Its gradient: each window routes its output gradient to its first maximum
// when that maximum is positive. `dst` (the input's shape) must start zeroed;
// windows do not overlap, so each input pixel has at most one writer.
extern "C" __global__ void max_pool2x2_relu_grad_f32(const float *x, const float *grad, float *dst, int planes, int h, int w) {
    const int oh = h / 2, ow = w / 2;
    const long long total = (long long)planes * oh * ow;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const int ox = i % ow, oy = (i / ow) % oh;
        const long long base = (i / ((long long)oh * ow)) * h * w;
        const int j = window_argmax(x + base, w, oy, ox);
        if (x[base + j] > 0.0f) dst[base + j] = grad[i];
    }
}
