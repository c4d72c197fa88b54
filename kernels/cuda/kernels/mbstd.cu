// mbstd.cu: StyleGAN2's minibatch standard deviation layer (REFERENCE.md section 4).
//
// x [N, C, H, W], group size G = min(group, N) dividing N, M = N/G, F feature
// channels dividing C, c = C/F. Sample n = g*M + m (G is the OUTER factor, as
// the reference's reshape(G, -1, F, c, H, W)), so sample n pairs with those of
// the same n mod M.
//   mbstd_stat_f32:   for every (m, f):
//     stat[m, f] = mean_{cc<c, h, w} sqrt(mean_g (v_g - mean_g v)^2 + eps),
//     v_g = x[g*M + m, f*c + cc, h, w]; computed in the reference's order
//     ((v - mean)^2, its mean, + eps, sqrt) because R1 through it is
//     ill-conditioned with G = 2.
//   mbstd_concat_f32: out [N, C+F, H, W] = cat(x, stat[n mod M, f] tiled over H, W).
//   mbstd_stat_bwd_f32: the gradient of stat w.r.t. x, ADDED to dx:
//     dx[g*M+m, f*c+cc, h, w] += dstat[m, f] / (c*H*W) * (v_g - mean) / (G * s).
//     (The concat's pass-through gradient is a slice of dout, done by the caller.)
//
// Cost per x element: stat ~5 FLOPs + sqrt/G, 4 bytes; concat 4+4 bytes;
// backward ~8 FLOPs, 8 bytes.
//
// Launch:
//   mbstd_stat_f32:     block 256 (power of two, multiple of 32), grid M*F:
//                       one block per (m, f).
//   mbstd_concat_f32:   block 256, grid min(ceil(N*(C+F)*H*W/256), 32*SMs); grid-stride.
//   mbstd_stat_bwd_f32: block 256, grid min(ceil(M*C*H*W/256), 32*SMs); grid-stride,
//                       one thread per (m, channel, h, w) handling its G samples.
//
// Entry points:
//   mbstd_stat_f32(int N, int C, int H, int W, int G, int F, float eps, const float* x, float* stat)
//   mbstd_concat_f32(int N, int C, int H, int W, int G, int F, const float* x, const float* stat, float* out)
//   mbstd_stat_bwd_f32(int N, int C, int H, int W, int G, int F, float eps, const float* x,
//                      const float* dstat, float* dx)

extern "C" __global__ void mbstd_stat_f32(int N, int C, int H, int W, int G, int F, float eps,
                                          const float* __restrict__ x, float* __restrict__ stat)
{
    __shared__ float part[32];
    const int M = N / G, c = C / F, HW = H * W, CHW = C * HW;
    const int mf = blockIdx.x;
    const int m = mf / F, f = mf - m * F;
    const int count = c * HW;
    const float* base = x + ((long long)m * C + f * c) * HW; // x[m, f*c, 0, 0]
    const long long gstride = (long long)M * CHW;          // sample n -> n + M
    float acc = 0.0f;
    for (int e = threadIdx.x; e < count; e += blockDim.x) { // e = cc*HW + hw: contiguous
        float mean = 0.0f;
        for (int g = 0; g < G; g++) mean += base[g * gstride + e];
        mean /= G;
        float var = 0.0f;
        for (int g = 0; g < G; g++) {
            float dv = base[g * gstride + e] - mean;
            var = fmaf(dv, dv, var);
        }
        acc += sqrtf(var / G + eps);
    }
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) part[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        acc = lane < nw ? part[lane] : 0.0f;
        for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
        if (lane == 0) stat[mf] = acc / count;
    }
}

extern "C" __global__ void mbstd_concat_f32(int N, int C, int H, int W, int G, int F,
                                            const float* __restrict__ x, const float* __restrict__ stat,
                                            float* __restrict__ out)
{
    const int M = N / G, HW = H * W, CF = C + F;
    const long long total = (long long)N * CF * HW;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int n = (int)(e / ((long long)CF * HW));
        int r = (int)(e - (long long)n * CF * HW);
        int ch = r / HW, hw = r - ch * HW;
        out[e] = ch < C ? x[((long long)n * C + ch) * HW + hw] : stat[(n % M) * F + (ch - C)];
    }
}

extern "C" __global__ void mbstd_stat_bwd_f32(int N, int C, int H, int W, int G, int F, float eps,
                                              const float* __restrict__ x, const float* __restrict__ dstat,
                                              float* __restrict__ dx)
{
    const int M = N / G, c = C / F, HW = H * W;
    const long long total = (long long)M * C * HW;
    const long long gstride = (long long)M * C * HW;
    const long long stride = (long long)gridDim.x * blockDim.x;
    const float inv_count = 1.0f / (float)(c * HW);
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        // e indexes x[m, ch, h, w] for the first group member (g = 0).
        int m = (int)(e / ((long long)C * HW));
        int ch = (int)((e / HW) % C);
        float mean = 0.0f;
        for (int g = 0; g < G; g++) mean += x[g * gstride + e];
        mean /= G;
        float var = 0.0f;
        for (int g = 0; g < G; g++) {
            float dv = x[g * gstride + e] - mean;
            var = fmaf(dv, dv, var);
        }
        float s = sqrtf(var / G + eps);
        float k = dstat[m * F + ch / c] * inv_count / (G * s);
        for (int g = 0; g < G; g++) dx[g * gstride + e] += k * (x[g * gstride + e] - mean);
    }
}
