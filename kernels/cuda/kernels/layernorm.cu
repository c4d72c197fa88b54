// layernorm.cu: layer normalisation over the last dim, forward and backward.
//
// Forward, per row of x [rows, cols] (contiguous):
//   mean = sum x / cols;  var = sum (x - mean)^2 / cols (two passes, population);
//   rstd = rsqrt(var + eps);  xhat = (x - mean) * rstd;  y = xhat * gamma + beta
// gamma / beta may be null (no affine); mean / rstd may be null (not saved).
// Backward (g = gamma or 1):
//   dx = rstd * (g*dy - mean_j(g*dy) - xhat * mean_j(g*dy*xhat))
//   dgamma[j] += sum_rows dy*xhat,  dbeta[j] += sum_rows dy   (atomicAdd: zero first)
//
// Cost per element: forward ~8 FLOPs, 8 bytes DRAM (x read, y written; the
// second and third passes over x hit cache); backward dx ~10 FLOPs, 12 bytes;
// params ~4 FLOPs, 8 bytes.
//
// Launch:
//   layernorm_fwd_f32, layernorm_bwd_dx_f32: one block per row, block 128 or
//     256 (power of two, multiple of 32), grid rows.
//   layernorm_bwd_params_f32: block 256, grid (ceil(cols/256),
//     ceil(rows/rows_per_block)); each thread owns one column over
//     rows_per_block rows (~32-64 keeps the atomics rare and the grid full).
//
// Entry points:
//   layernorm_fwd_f32(int rows, int cols, float eps, const float* x, const float* gamma,
//                     const float* beta, float* y, float* mean, float* rstd)
//   layernorm_bwd_dx_f32(int rows, int cols, const float* x, const float* dy, const float* gamma,
//                        const float* mean, const float* rstd, float* dx)
//   layernorm_bwd_params_f32(int rows, int cols, int rows_per_block, const float* x, const float* dy,
//                            const float* mean, const float* rstd, float* dgamma, float* dbeta)

__device__ __forceinline__ float ln_warp_sum(float v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

__device__ __forceinline__ float ln_block_sum(float v, float* part)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = ln_warp_sum(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = lane < nw ? part[lane] : 0.0f;
    return ln_warp_sum(v);
}

extern "C" __global__ void layernorm_fwd_f32(int rows, int cols, float eps, const float* __restrict__ x,
                                             const float* __restrict__ gamma, const float* __restrict__ beta,
                                             float* __restrict__ y, float* __restrict__ mean,
                                             float* __restrict__ rstd)
{
    __shared__ float part[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * cols;
    float* yr = y + (long long)row * cols;
    float s = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) s += xr[j];
    float mu = ln_block_sum(s, part) / cols;
    float v = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float d = xr[j] - mu;
        v = fmaf(d, d, v);
    }
    float rs = rsqrtf(ln_block_sum(v, part) / cols + eps);
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float h = (xr[j] - mu) * rs;
        if (gamma) h *= gamma[j];
        if (beta) h += beta[j];
        yr[j] = h;
    }
    if (threadIdx.x == 0) {
        if (mean) mean[row] = mu;
        if (rstd) rstd[row] = rs;
    }
}

extern "C" __global__ void layernorm_bwd_dx_f32(int rows, int cols, const float* __restrict__ x,
                                                const float* __restrict__ dy, const float* __restrict__ gamma,
                                                const float* __restrict__ mean, const float* __restrict__ rstd,
                                                float* __restrict__ dx)
{
    __shared__ float part[32];
    int row = blockIdx.x;
    if (row >= rows) return;
    long long base = (long long)row * cols;
    float mu = mean[row], rs = rstd[row];
    float s1 = 0.0f, s2 = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float g = dy[base + j] * (gamma ? gamma[j] : 1.0f);
        float h = (x[base + j] - mu) * rs;
        s1 += g;
        s2 = fmaf(g, h, s2);
    }
    s1 = ln_block_sum(s1, part) / cols;
    s2 = ln_block_sum(s2, part) / cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float g = dy[base + j] * (gamma ? gamma[j] : 1.0f);
        float h = (x[base + j] - mu) * rs;
        dx[base + j] = rs * (g - s1 - h * s2);
    }
}

extern "C" __global__ void layernorm_bwd_params_f32(int rows, int cols, int rows_per_block,
                                                    const float* __restrict__ x, const float* __restrict__ dy,
                                                    const float* __restrict__ mean, const float* __restrict__ rstd,
                                                    float* __restrict__ dgamma, float* __restrict__ dbeta)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    int r0 = blockIdx.y * rows_per_block, r1 = min(rows, r0 + rows_per_block);
    float sg = 0.0f, sb = 0.0f;
    for (int r = r0; r < r1; r++) {
        long long i = (long long)r * cols + j;
        float g = dy[i];
        sg = fmaf(g, (x[i] - mean[r]) * rstd[r], sg);
        sb += g;
    }
    if (dgamma) atomicAdd(dgamma + j, sg);
    if (dbeta) atomicAdd(dbeta + j, sb);
}
