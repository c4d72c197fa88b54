// upfirdn2d.cu: upsample, pad, FIR filter, downsample (REFERENCE.md section 2).
//
// Per plane (x is [major, in_h, in_w] contiguous, major = N*C), per axis:
// upsample by inserting up-1 zeros, pad by (p0, p1) on the upsampled grid
// (negative crops), filter, keep every down-th sample:
//   y[o] = gain * sum_k xu[o*down + k - p0] * f'[k],   xu zero outside,
//   f'[k] = f[taps-1-k] (flip = 0: true convolution) or f[k] (flip = 1: correlation),
// in 2-D with f [fh, fw] (a separable filter is applied as two launches with
// fh = 1 and fw = 1). out = (in*up + p0 + p1 - taps + down) / down per axis.
// The gradient w.r.t. x is this same kernel (up/down swapped, flip negated,
// pads from REFERENCE.md), so every order of derivative reuses it.
//
// Polyphase: for output o, mid = o*down - p0; only taps k = k0, k0+up, ... with
// k0 = (-mid) mod up meet a real input, which is (mid + k) / up. With up = 2 and
// a 4x4 filter that is 2x2 taps per output.
//
// Cost per output: 2*ceil(fh/up_y)*ceil(fw/up_x) FLOPs; bytes: input plane once
// (from the shared-memory tile) + output once. The StyleGAN cases (4x4 filter,
// up or down 2) are memory-bound.
//
// upfirdn2d_f32 (any up/down/filter), upfirdn2d_down2_f4_f32 (up 1, down 2,
// 4x4), upfirdn2d_filter_f4_f32 (up 1, down 1, 4x4: filter2d and the FIR of a
// resampling conv): a block computes a 32x32 output tile of one plane
// (looping over planes by gridDim.z) from an input tile and the gain-scaled,
// pre-oriented filter in dynamic shared memory of
//   4 * (tin_w * tin_h + fh * fw) bytes, tin = ((32-1)*down + taps - 1) / up + 1
// (UpfirdnSharedBytes in params.go computes it). The specialised entry points
// fix up/down/taps at compile time so the tap loops unroll; pads, flip and
// gain stay parameters.
//   Launch: block (32, 8), grid (ceil(out_w/32), ceil(out_h/32), min(major, 65535)).
// upfirdn2d_up2_f4_f32 (up 2, down 1, 4x4): one thread per 2x2 output quad,
//   no shared memory (upfirdn_quad_up2).
//   Launch: block (32, 8), grid (ceil(out_w/64), ceil(out_h/16), z), any
//   z <= min(major, 65535): PlanUpfirdn2d takes about 8 waves of blocks.
// upfirdn2d_direct_f32: no shared memory, one thread per output, for filters or
//   down factors whose tile would not fit.
//   Launch: block 256, grid min(ceil(major*out_h*out_w/256), 32*SMs); grid-stride.
//
// Entry points:
//   upfirdn2d_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_up2_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_down2_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_filter_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_direct_f32(UpfirdnParams p, const float* x, const float* f, float* y)

struct UpfirdnParams {
    int major;            // planes (N*C)
    int in_h, in_w;
    int out_h, out_w;
    int up_x, up_y;
    int down_x, down_y;
    int pad_x0, pad_x1, pad_y0, pad_y1;
    int fh, fw;           // filter taps: f is [fh, fw]
    int flip;             // 1: correlation (flip_filter=True), 0: true convolution
    float gain;
};

#define UF_TW 32
#define UF_TH 32

__device__ __forceinline__ int uf_floordiv(int a, int b) // b > 0
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

__device__ __forceinline__ int uf_pmod(int a, int b) // b > 0, result in [0, b)
{
    int r = a % b;
    return r < 0 ? r + b : r;
}

// UP, DOWN, FH, FW: compile-time values, or 0 to read them from p.
template <int UP, int DOWN, int FH, int FW>
__device__ __forceinline__ void upfirdn_tiled(const UpfirdnParams& p, const float* __restrict__ x,
                                              const float* __restrict__ f, float* __restrict__ y)
{
    extern __shared__ float uf_smem[];
    const int up_x = UP ? UP : p.up_x, up_y = UP ? UP : p.up_y;
    const int down_x = DOWN ? DOWN : p.down_x, down_y = DOWN ? DOWN : p.down_y;
    const int fh = FH ? FH : p.fh, fw = FW ? FW : p.fw;
    const int tin_w = ((UF_TW - 1) * down_x + fw - 1) / up_x + 1;
    const int tin_h = ((UF_TH - 1) * down_y + fh - 1) / up_y + 1;
    float* tile = uf_smem;
    float* fs = uf_smem + tin_w * tin_h;
    const int tid = threadIdx.y * blockDim.x + threadIdx.x, nthreads = blockDim.x * blockDim.y;

    // Filter in correlation orientation, gain folded in: output = sum tile * fs.
    for (int i = tid; i < fh * fw; i += nthreads) {
        int ky = i / fw, kx = i - ky * fw;
        fs[i] = p.gain * (p.flip ? f[i] : f[(fh - 1 - ky) * fw + (fw - 1 - kx)]);
    }

    const int ox0 = blockIdx.x * UF_TW, oy0 = blockIdx.y * UF_TH;
    // First input row/column the tile needs: ceil((o0*down - p0) / up).
    const int ix_lo = -uf_floordiv(p.pad_x0 - ox0 * down_x, up_x);
    const int iy_lo = -uf_floordiv(p.pad_y0 - oy0 * down_y, up_y);

    // Per-thread output column: its first tap and input column are plane-independent.
    const int ox = ox0 + threadIdx.x;
    const int mid_x = ox * down_x - p.pad_x0;
    const int kx0 = uf_pmod(-mid_x, up_x);
    const int lx0 = (mid_x + kx0) / up_x - ix_lo; // exact division

    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + (long long)plane * p.in_h * p.in_w;
        __syncthreads(); // the previous plane's tile is no longer read
        for (int i = tid; i < tin_w * tin_h; i += nthreads) {
            int ly = i / tin_w, lx = i - ly * tin_w;
            int iy = iy_lo + ly, ix = ix_lo + lx;
            tile[i] = ((unsigned)iy < (unsigned)p.in_h && (unsigned)ix < (unsigned)p.in_w) ? xp[iy * p.in_w + ix] : 0.0f;
        }
        __syncthreads();
        if (ox >= p.out_w) continue;
        float* yp = y + (long long)plane * p.out_h * p.out_w;
        for (int r = threadIdx.y; r < UF_TH; r += blockDim.y) {
            const int oy = oy0 + r;
            if (oy >= p.out_h) break;
            const int mid_y = oy * down_y - p.pad_y0;
            const int ky0 = uf_pmod(-mid_y, up_y);
            int ly = (mid_y + ky0) / up_y - iy_lo;
            float acc = 0.0f;
#pragma unroll
            for (int ky = ky0; ky < fh; ky += up_y, ly++) {
                const float* trow = tile + ly * tin_w;
                const float* frow = fs + ky * fw;
                int lx = lx0;
#pragma unroll
                for (int kx = kx0; kx < fw; kx += up_x, lx++) acc = fmaf(trow[lx], frow[kx], acc);
            }
            yp[oy * p.out_w + ox] = acc;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_tiled<0, 0, 0, 0>(p, x, f, y);
}

// uf_window3 loads the 3x3 input window at xp (zero outside the plane, or
// everywhere when !load).
__device__ __forceinline__ void uf_window3(float (&v)[3][3], const float* __restrict__ xp, int in_w,
                                           const bool (&rok)[3], const bool (&cok)[3], bool load)
{
#pragma unroll
    for (int r = 0; r < 3; r++)
#pragma unroll
        for (int c = 0; c < 3; c++) v[r][c] = (load && rok[r] && cok[c]) ? __ldg(xp + r * in_w + c) : 0.0f;
}

// uf_quad_store computes a 2x2 output quad from its window and stores it at
// yp (row a at yp + a*out_w). dx, dy (0 or 1): where the second output
// phase's taps start in the window.
__device__ __forceinline__ void uf_quad_store(const float (&v)[3][3], const float (&w)[2][2][2][2], int dx, int dy,
                                              float* __restrict__ yp, int out_w, bool rows2, bool pair, bool vec)
{
    float o[2][2];
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int b = 0; b < 2; b++) {
            const int r0 = a ? dy : 0, c0 = b ? dx : 0;
            float acc = 0.0f;
#pragma unroll
            for (int ta = 0; ta < 2; ta++)
#pragma unroll
                for (int tb = 0; tb < 2; tb++) {
                    const float xv = r0 ? (c0 ? v[1 + ta][1 + tb] : v[1 + ta][tb]) : (c0 ? v[ta][1 + tb] : v[ta][tb]);
                    acc = fmaf(xv, w[a][b][ta][tb], acc);
                }
            o[a][b] = acc;
        }
#pragma unroll
    for (int a = 0; a < 2; a++) {
        if (a == 1 && !rows2) break;
        float* yr = yp + a * out_w;
        if (vec) {
            *reinterpret_cast<float2*>(yr) = make_float2(o[a][0], o[a][1]);
        } else {
            yr[0] = o[a][0];
            if (pair) yr[1] = o[a][1];
        }
    }
}

// upfirdn_quad_up2: up 2 with a 4x4 filter, one thread per 2x2 output quad
// from a 3x3 input window (the two output phases of an axis need input
// columns i0..i0+2 at most), its 16 taps and index arithmetic set up once and
// reused for the planes it loops over. Block (32, 8) covers 64 x 16 outputs.
// On an H200 (bench/cuda/variants.cu, [16,512,32,32] -> 64): the shared-tile
// kernel with a plane per block ran at 34% of the copy bandwidth, one output
// per thread at 25-27%, this kernel with a plane per block at 40%, and with
// 8 waves of blocks looping over the planes at 67%.
__device__ __forceinline__ void upfirdn_quad_up2(const UpfirdnParams& p, const float* __restrict__ x,
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
    // Two planes per pass, both windows loaded before either is used: with
    // one, a thread had 9 loads (most of them L1 hits) in flight.
    const long long in_plane = (long long)p.in_h * p.in_w, out_plane = (long long)p.out_h * p.out_w;
    const float* xq = x + (long long)iy[0] * p.in_w + ix[0];
    float* yq = y + (long long)oy * p.out_w + ox;
    for (int plane = blockIdx.z; plane < p.major; plane += 2 * gridDim.z) {
        const int plane2 = plane + gridDim.z;
        const bool two = plane2 < p.major;
        float v[3][3], v2[3][3];
        uf_window3(v, xq + plane * in_plane, p.in_w, rok, cok, true);
        uf_window3(v2, xq + (long long)plane2 * in_plane, p.in_w, rok, cok, two);
        uf_quad_store(v, w, dx, dy, yq + plane * out_plane, p.out_w, rows2, pair, vec);
        if (two) uf_quad_store(v2, w, dx, dy, yq + (long long)plane2 * out_plane, p.out_w, rows2, pair, vec);
    }
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_up2_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_quad_up2(p, x, f, y);
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_down2_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_tiled<1, 2, 4, 4>(p, x, f, y);
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_filter_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_tiled<1, 1, 4, 4>(p, x, f, y);
}

extern "C" __global__ void upfirdn2d_direct_f32(UpfirdnParams p, const float* __restrict__ x,
                                                const float* __restrict__ f, float* __restrict__ y)
{
    const long long total = (long long)p.major * p.out_h * p.out_w;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        const int plane = (int)(e / ((long long)p.out_h * p.out_w));
        const int r = (int)(e - (long long)plane * p.out_h * p.out_w);
        const int oy = r / p.out_w, ox = r - oy * p.out_w;
        const float* xp = x + (long long)plane * p.in_h * p.in_w;
        const int mid_y = oy * p.down_y - p.pad_y0, mid_x = ox * p.down_x - p.pad_x0;
        const int ky0 = uf_pmod(-mid_y, p.up_y), kx0 = uf_pmod(-mid_x, p.up_x);
        float acc = 0.0f;
        int iy = (mid_y + ky0) / p.up_y;
        for (int ky = ky0; ky < p.fh; ky += p.up_y, iy++) {
            if ((unsigned)iy >= (unsigned)p.in_h) continue;
            int ix = (mid_x + kx0) / p.up_x;
            for (int kx = kx0; kx < p.fw; kx += p.up_x, ix++) {
                if ((unsigned)ix >= (unsigned)p.in_w) continue;
                float fv = p.flip ? f[ky * p.fw + kx] : f[(p.fh - 1 - ky) * p.fw + (p.fw - 1 - kx)];
                acc = fmaf(xp[iy * p.in_w + ix], fv, acc);
            }
        }
        y[e] = p.gain * acc;
    }
}
