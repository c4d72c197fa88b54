// pool.cu: 2-D average and max pooling, forward (the FID's Inception-v3
// has both; kernels/cpu's PoolGeom describes the same geometry).
//
// x [planes, h, w] contiguous -> y [planes, oh, ow] contiguous, ceil_mode
// false. Window (oy, ox) covers rows oy*sh - ph .. + kh - 1 and columns
// ox*sw - pw .. + kw - 1, clipped to the input:
//   avg_pool2d_f32: y = (sum of the in-bounds inputs, row by row, left to
//     right, from 0) / count, count = the in-bounds count, or with
//     count_include_pad the window clipped to the padded input (PyTorch's
//     avg_pool2d). The order and the plain adds (nothing to contract into an
//     FMA) give the CPU's bits.
//   max_pool2d_f32: y = the largest in-bounds input (padding is -inf), NaN
//     when the window holds one, as max_pool2d.
//
// Cost per output: kh*kw reads (mostly cached: windows overlap) and adds or
// compares, one write. Memory-bound: about (1 + 1/(sh*sw)) * 4 bytes an output
// from DRAM when the windows' rows stay in L1/L2.
//
// Launch: block 256, grid min(ceil(planes*oh*ow/256), 32*SMs); grid-stride,
// one thread per output.
//
// Entry points:
//   avg_pool2d_f32(PoolParams p, const float* x, float* y)
//   max_pool2d_f32(PoolParams p, const float* x, float* y)

struct PoolParams {
    int planes, h, w, oh, ow;
    int kh, kw, sh, sw, ph, pw;
    int count_include_pad;
};

// pool_window clips output e's window: rows [y0, y1), columns [x0, x1) of
// plane *plane, and the padded window's size.
__device__ __forceinline__ void pool_window(const PoolParams& p, long long e, long long& plane, int& y0, int& y1,
                                            int& x0, int& x1, int& padded)
{
    const int ox = (int)(e % p.ow);
    const long long r = e / p.ow;
    const int oy = (int)(r % p.oh);
    plane = r / p.oh;
    y0 = oy * p.sh - p.ph;
    x0 = ox * p.sw - p.pw;
    y1 = min(y0 + p.kh, p.h + p.ph);
    x1 = min(x0 + p.kw, p.w + p.pw);
    padded = (y1 - y0) * (x1 - x0);
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    y1 = min(y1, p.h);
    x1 = min(x1, p.w);
}

// pool2d is both entries' loop: one output per thread, grid-stride; IS_MAX
// picks the reduction.
template <bool IS_MAX>
__device__ __forceinline__ void pool2d(const PoolParams& p, const float* __restrict__ x, float* __restrict__ y)
{
    const long long total = (long long)p.planes * p.oh * p.ow;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x) {
        long long plane;
        int y0, y1, x0, x1, padded;
        pool_window(p, e, plane, y0, y1, x0, x1, padded);
        const float* xp = x + plane * p.h * p.w;
        float r = IS_MAX ? __int_as_float(0xff800000) : 0.0f; // -inf, or the sum's zero
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
                const float v = xp[iy * p.w + ix];
                if (IS_MAX) {
                    if (v > r || v != v) r = v;
                } else {
                    r += v;
                }
            }
        if (!IS_MAX) r /= (float)(p.count_include_pad ? padded : (y1 - y0) * (x1 - x0));
        y[e] = r;
    }
}

extern "C" __global__ void avg_pool2d_f32(PoolParams p, const float* __restrict__ x, float* __restrict__ y)
{
    pool2d<false>(p, x, y);
}

extern "C" __global__ void max_pool2d_f32(PoolParams p, const float* __restrict__ x, float* __restrict__ y)
{
    pool2d<true>(p, x, y);
}
