// uf_variants.cuh: candidate upfirdn2d kernels (4x4 filter) for variants.cu;
// device code only, so that NVRTC can check it where nvcc is missing.
// Needs UpfirdnParams, uf_pmod and UF_TW from kernels/cuda/kernels/upfirdn2d.cu.

// uf_tiled2d: the engine's v1 shared-tile kernel with the tile loaded by a 2-D
// loop (no division per element) and the compute of v1.
template <int UP, int DOWN>
__global__ void __launch_bounds__(256) uf_tiled2d(UpfirdnParams p, const float* __restrict__ x,
                                                  const float* __restrict__ f, float* __restrict__ y)
{
    extern __shared__ float uf_smem2[];
    constexpr int FH = 4, FW = 4;
    constexpr int tin_w = ((32 - 1) * DOWN + FW - 1) / UP + 1;
    constexpr int tin_h = ((32 - 1) * DOWN + FH - 1) / UP + 1;
    float* tile = uf_smem2;
    __shared__ float fs[FH * FW];
    const int tid = threadIdx.y * 32 + threadIdx.x;
    if (tid < FH * FW) {
        int ky = tid / FW, kx = tid - ky * FW;
        fs[tid] = p.gain * (p.flip ? f[tid] : f[(FH - 1 - ky) * FW + (FW - 1 - kx)]);
    }
    const int ox0 = blockIdx.x * 32, oy0 = blockIdx.y * 32;
    const int ix_lo = -uf_floordiv(p.pad_x0 - ox0 * DOWN, UP);
    const int iy_lo = -uf_floordiv(p.pad_y0 - oy0 * DOWN, UP);
    const int ox = ox0 + threadIdx.x;
    const int mid_x = ox * DOWN - p.pad_x0;
    const int kx0 = uf_pmod(-mid_x, UP);
    const int lx0 = (mid_x + kx0) / UP - ix_lo;
    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + (long long)plane * p.in_h * p.in_w;
        __syncthreads();
        for (int ly = threadIdx.y; ly < tin_h; ly += 8) {
            const int iy = iy_lo + ly;
            const bool rowOK = (unsigned)iy < (unsigned)p.in_h;
            for (int lx = threadIdx.x; lx < tin_w; lx += 32) {
                const int ix = ix_lo + lx;
                tile[ly * tin_w + lx] = (rowOK && (unsigned)ix < (unsigned)p.in_w) ? __ldg(xp + iy * p.in_w + ix) : 0.0f;
            }
        }
        __syncthreads();
        if (ox >= p.out_w) continue;
        float* yp = y + (long long)plane * p.out_h * p.out_w;
#pragma unroll
        for (int r = threadIdx.y; r < 32; r += 8) {
            const int oy = oy0 + r;
            if (oy >= p.out_h) break;
            const int mid_y = oy * DOWN - p.pad_y0;
            const int ky0 = uf_pmod(-mid_y, UP);
            int ly = (mid_y + ky0) / UP - iy_lo;
            float acc = 0.0f;
#pragma unroll
            for (int ky = 0; ky < FH; ky += UP, ly++) {
                const float* trow = tile + ly * tin_w;
                const float* frow = fs + (ky + ky0) * FW;
                int lx = lx0;
#pragma unroll
                for (int kx = 0; kx < FW; kx += UP, lx++) acc = fmaf(trow[lx], frow[kx + kx0], acc);
            }
            yp[oy * p.out_w + ox] = acc;
        }
    }
}

template __global__ void uf_tiled2d<2, 1>(UpfirdnParams, const float*, const float*, float*);
template __global__ void uf_tiled2d<1, 2>(UpfirdnParams, const float*, const float*, float*);

// uf_stream: the engine's row-streaming kernels with another strip (rows, or
// row pairs for up 2, per thread) and another promise of blocks per SM
// (MINB: 128-thread blocks; 4 caps registers at 128, 8 at 64). MODE 0 up 2,
// 1 down 2, 2 filter. Grid as the engine's plan with this STRIP.
template <int MODE, int STRIP, int MINB>
__global__ void __launch_bounds__(128, MINB) uf_stream(UpfirdnParams p, const float* __restrict__ x,
                                                       const float* __restrict__ f, float* __restrict__ y)
{
    if (MODE == 0) upfirdn_stream_up2<STRIP>(p, x, f, y);
    else if (MODE == 1) upfirdn_stream_down2<STRIP>(p, x, f, y);
    else upfirdn_stream_filter<STRIP>(p, x, f, y);
}
