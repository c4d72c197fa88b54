// softmax.cu: numerically stable softmax / log-softmax over the last dim.
//
// Forward, per row of x [rows, cols] (contiguous):
//   m = max_j x_j;  s = sum_j exp(x_j - m)
//   softmax:     y_j = exp(x_j - m) / s
//   log-softmax: y_j = x_j - m - log(s)
// Backward from the saved OUTPUT y:
//   softmax:     dx_j = y_j * (dy_j - sum_k dy_k y_k)
//   log-softmax: dx_j = dy_j - exp(y_j) * sum_k dy_k
// A row of all -inf gives NaN, as in torch. Softmax over another dim: make it
// the last (transpose + contiguous) first.
//
// Cost per element: ~5 FLOPs + 1 exp forward, 3 FLOPs backward; 3 passes over
// x (max, sum, write: reads mostly hit L1/L2) so ~8 bytes of DRAM per element.
//
// Launch:
//   *_block_f32: one block per row, block 256 (power of two, multiple of 32),
//                grid rows. For cols >= ~1024.
//   *_warp_f32:  one warp per row, block 256 (8 rows), grid ceil(rows/8).
//                For short rows (attention scores, per-sample logits).
//
// Entry points (log = 0 softmax, 1 log-softmax):
//   softmax_fwd_block_f32(int rows, int cols, int log, const float* x, float* y)
//   softmax_fwd_warp_f32(int rows, int cols, int log, const float* x, float* y)
//   softmax_bwd_block_f32(int rows, int cols, int log, const float* y, const float* dy, float* dx)
//   softmax_bwd_warp_f32(int rows, int cols, int log, const float* y, const float* dy, float* dx)

__device__ __forceinline__ float sm_warp_max(float v)
{
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

__device__ __forceinline__ float sm_warp_sum(float v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

// Block-wide reductions; every thread gets the result. part holds 32 floats.
__device__ __forceinline__ float sm_block_max(float v, float* part)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = sm_warp_max(v);
    __syncthreads(); // part may still be read by a previous reduction
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = lane < nw ? part[lane] : __int_as_float(0xff800000);
    return sm_warp_max(v);
}

__device__ __forceinline__ float sm_block_sum(float v, float* part)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = sm_warp_sum(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = lane < nw ? part[lane] : 0.0f;
    return sm_warp_sum(v);
}

extern "C" __global__ void softmax_fwd_block_f32(int rows, int cols, int log, const float* __restrict__ x,
                                                 float* __restrict__ y)
{
    __shared__ float part[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * cols;
    float* yr = y + (long long)row * cols;
    float m = __int_as_float(0xff800000);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = sm_block_max(m, part);
    float s = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(xr[j] - m);
    s = sm_block_sum(s, part);
    if (log) {
        float ls = m + logf(s);
        for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = xr[j] - ls;
    } else {
        float inv = 1.0f / s;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = expf(xr[j] - m) * inv;
    }
}

extern "C" __global__ void softmax_fwd_warp_f32(int rows, int cols, int log, const float* __restrict__ x,
                                                float* __restrict__ y)
{
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const float* xr = x + (long long)row * cols;
    float* yr = y + (long long)row * cols;
    float m = __int_as_float(0xff800000);
    for (int j = lane; j < cols; j += 32) m = fmaxf(m, xr[j]);
    m = sm_warp_max(m);
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) s += expf(xr[j] - m);
    s = sm_warp_sum(s);
    if (log) {
        float ls = m + logf(s);
        for (int j = lane; j < cols; j += 32) yr[j] = xr[j] - ls;
    } else {
        float inv = 1.0f / s;
        for (int j = lane; j < cols; j += 32) yr[j] = expf(xr[j] - m) * inv;
    }
}

extern "C" __global__ void softmax_bwd_block_f32(int rows, int cols, int log, const float* __restrict__ y,
                                                 const float* __restrict__ dy, float* __restrict__ dx)
{
    __shared__ float part[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    long long base = (long long)row * cols;
    float s = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += log ? dy[base + j] : dy[base + j] * y[base + j];
    s = sm_block_sum(s, part);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float yj = y[base + j], g = dy[base + j];
        dx[base + j] = log ? g - expf(yj) * s : yj * (g - s);
    }
}

extern "C" __global__ void softmax_bwd_warp_f32(int rows, int cols, int log, const float* __restrict__ y,
                                                const float* __restrict__ dy, float* __restrict__ dx)
{
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    long long base = (long long)row * cols;
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) s += log ? dy[base + j] : dy[base + j] * y[base + j];
    s = sm_warp_sum(s);
    for (int j = lane; j < cols; j += 32) {
        float yj = y[base + j], g = dy[base + j];
        dx[base + j] = log ? g - expf(yj) * s : yj * (g - s);
    }
}
