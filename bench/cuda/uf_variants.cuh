// uf_variants.cuh: candidate upfirdn2d kernels (4x4 filter) for variants.cu;
// device code only, so that NVRTC can check it where nvcc is missing.
// Needs UpfirdnParams, uf_pmod and UF_TW from kernels/cuda/kernels/upfirdn2d.cu.

// uf_quad_up2: up 2, one thread per 2x2 output quad from a 3x3 input window
// (the two output phases of each axis need input columns i0..i0+2 at most).
// Block (32, 8) covers 64 x 16 outputs.
__global__ void __launch_bounds__(256) uf_quad_up2(UpfirdnParams p, const float* __restrict__ x,
                                                   const float* __restrict__ f, float* __restrict__ y)
{
    const int ox = 2 * (blockIdx.x * 32 + threadIdx.x), oy = 2 * (blockIdx.y * 8 + threadIdx.y);
    if (ox >= p.out_w || oy >= p.out_h) return;
    // Per axis and output phase q (0, 1): first tap k0[q], first input i0[q].
    int kx[2], ix[2], ky[2], iy[2];
#pragma unroll
    for (int q = 0; q < 2; q++) {
        const int mx = ox + q - p.pad_x0, my = oy + q - p.pad_y0;
        kx[q] = uf_pmod(-mx, 2);
        ix[q] = (mx + kx[q]) / 2;
        ky[q] = uf_pmod(-my, 2);
        iy[q] = (my + ky[q]) / 2;
    }
    const int dx = ix[1] - ix[0], dy = iy[1] - iy[0]; // 0 or 1
    float w[2][2][2][2];                             // [row phase][col phase][row tap][col tap]
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int b = 0; b < 2; b++)
#pragma unroll
            for (int ta = 0; ta < 2; ta++)
#pragma unroll
                for (int tb = 0; tb < 2; tb++) {
                    const int fy = ky[a] + 2 * ta, fx = kx[b] + 2 * tb;
                    w[a][b][ta][tb] = p.gain * __ldg(p.flip ? f + fy * 4 + fx : f + (3 - fy) * 4 + (3 - fx));
                }
    bool rok[3], cok[3];
#pragma unroll
    for (int i = 0; i < 3; i++) {
        rok[i] = (unsigned)(iy[0] + i) < (unsigned)p.in_h;
        cok[i] = (unsigned)(ix[0] + i) < (unsigned)p.in_w;
    }
    const bool pair = ox + 1 < p.out_w, rows2 = oy + 1 < p.out_h;
    const bool vec = pair && (p.out_w & 1) == 0;
    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + (long long)plane * p.in_h * p.in_w + (long long)iy[0] * p.in_w + ix[0];
        float v[3][3];
#pragma unroll
        for (int r = 0; r < 3; r++)
#pragma unroll
            for (int c = 0; c < 3; c++) v[r][c] = (rok[r] && cok[c]) ? __ldg(xp + r * p.in_w + c) : 0.0f;
        float o[2][2];
#pragma unroll
        for (int a = 0; a < 2; a++)
#pragma unroll
            for (int b = 0; b < 2; b++) {
                float acc = 0.0f;
#pragma unroll
                for (int ta = 0; ta < 2; ta++)
#pragma unroll
                    for (int tb = 0; tb < 2; tb++) {
                        const float xv = a ? (dy ? (b ? (dx ? v[1 + ta][1 + tb] : v[1 + ta][tb]) : v[1 + ta][tb])
                                                 : (b ? (dx ? v[ta][1 + tb] : v[ta][tb]) : v[ta][tb]))
                                           : (b ? (dx ? v[ta][1 + tb] : v[ta][tb]) : v[ta][tb]);
                        acc = fmaf(xv, w[a][b][ta][tb], acc);
                    }
                o[a][b] = acc;
            }
        float* yp = y + (long long)plane * p.out_h * p.out_w + (long long)oy * p.out_w + ox;
#pragma unroll
        for (int a = 0; a < 2; a++) {
            if (a == 1 && !rows2) break;
            float* yr = yp + a * p.out_w;
            if (vec) {
                *reinterpret_cast<float2*>(yr) = make_float2(o[a][0], o[a][1]);
            } else {
                yr[0] = o[a][0];
                if (pair) yr[1] = o[a][1];
            }
        }
    }
}

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
