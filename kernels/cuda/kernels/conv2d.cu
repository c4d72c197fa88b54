// conv2d.cu: 2-D convolution (PyTorch conv2d: cross-correlation, NCHW) as
// implicit GEMM, forward and both gradients, with stride, padding, dilation
// and groups.
//
//   forward  y[n,o,oh,ow] = bias[o] + sum_{c,kh,kw} x[n, g*Cg+c, oh*sh-ph+kh*dh, ow*sw-pw+kw*dw] * w[o,c,kh,kw]
//            GEMM per group g: (Og x Cg*KH*KW) weight times im2col(x) (Cg*KH*KW x N*OH*OW).
//   dgrad    dx[n,c,ih,iw] = sum_{o,kh,kw : ih = oh*sh-ph+kh*dh, iw likewise} dy[n,o,oh,ow] * w[o,c,kh,kw]
//            GEMM per group: (Cg x Og*KH*KW) times a gather of dy (Og*KH*KW x N*H*W).
//            With stride s only 1/s^2 of the gathered dy is non-zero; the phase kernel
//            (conv2d_dgrad_phase128_f32) gathers only those. This is also conv_transpose2d: the
//            transposed conv of x with weight wt [Cin_t, Cout_t/groups, k, k] is
//            dgrad with dy = x, w = wt, N,C,H,W = the transposed conv's output.
//   wgrad    dw[o,c,kh,kw] += sum_{n,oh,ow} dy[n,o,oh,ow] * x[n, g*Cg+c, oh*sh-ph+kh*dh, ...]
//            GEMM per group: (Og x N*OH*OW) times im2col(x)^T, split along the long
//            N*OH*OW axis across blocks and summed with atomicAdd: dw must be zeroed
//            (or hold what to accumulate into) before the launch.
//   modfwd   the forward with StyleGAN2's modulation folded in (the non-fused
//            training path of modulated conv in one pass):
//              z[n,o,oh,ow] = sum_{c,kh,kw} (x[n, g*Cg+c, ...] * in_scale[n, g*Cg+c]) * w[o,c,kh,kw]
//              y[n,o,oh,ow] = z * out_scale[n,o] + noise[n*noise_n_stride + oh*OW + ow] * noise_gain[0]
//            in_scale [N,C] (styles) is applied as the input tile is loaded, out_scale
//            [N,O] (demodulation) and noise ([N or 1, 1, OH, OW]: noise_n_stride = OH*OW
//            or 0) in the epilogue; each may be null (factor 1, no noise; a null
//            noise_gain is 1). z (the convolution before the epilogue, which the
//            gradient with respect to out_scale needs) is written when not null.
//            No bias, no beta: y is only written.
// x [N,C,H,W], w [O,C/groups,KH,KW], y [N,O,OH,OW], all contiguous, 32-bit
// indices (each tensor under 2^31 elements). With beta == 0 the output is not
// read; else out = result + beta*out (forward and dgrad). bias may be null.
//
// Cost: 2*N*O*OH*OW*(C/groups)*KH*KW FLOPs for each of the three; bytes at least
// x + w + y once each. Compute-bound for the StyleGAN layers (C, O >= 64).
// modfwd: the forward's FLOPs and bytes (+ z when kept, + noise); its extra work
// is one multiply per gathered input element (1/64 of the tile's FMAs) and two
// per output, against the four memory passes (x*s, conv, *d, +noise) of the
// unfused sequence.
//
// Tiling: 64x64 output tile per block, K in steps of 8, 256 threads each
// computing 4x4 outputs; tiles double-buffered in shared memory (4.25 KiB)
// with a register prefetch of the next. Each thread's column of the gathered
// operand is fixed for the whole loop, so its (n, oh, ow) or (c, kh, kw) is
// decoded once.
//
// The 128x128 versions (conv2d_fwd128_f32, conv2d_modfwd128_f32,
// conv2d_dgrad128_f32, conv2d_wgrad128_f32; same contracts and parameters)
// use the tiling of sgemm.cu's sgemm_128x128x8_f32: 8x8 outputs per thread in
// two 4x4 quadrants 64 apart, double-buffered tiles (16.5 KiB), at most 128
// registers (2 blocks per SM). A thread loads 4 elements of each operand per
// step and decodes the gathered operand's k (c, kh, kw or n, oh, ow) once per
// step rather than once per element; its 4 columns are decoded once. On an
// H200 the 64x64 kernels ran at 19-30% of the FP32 peak where the GEMM's tile
// reached 52%: per 128 FMAs a thread of the small tile spent about as many
// integer instructions on the im2col decode. PlanConv2d (params.go) picks the
// 128x128 tile when the output rows fill it and the grid still covers the SMs.
//
// Launch (block 256):
//   conv2d_fwd_f32    grid (ceil(N*OH*OW/64), ceil(Og/64), groups)
//   conv2d_modfwd_f32 grid (ceil(N*OH*OW/64), ceil(Og/64), groups), as the forward
//   conv2d_dgrad_f32  grid (ceil(N*H*W/64),   ceil(Cg/64), groups)
//   conv2d_wgrad_f32  grid (ceil(Cg*KH*KW/64), ceil(Og/64), groups*splits) with
//                     splits = ceil(N*OH*OW / k_split), k_split a multiple of 8
//                     (pick splits so the grid fills the GPU, ~2-4 blocks per SM)
//   conv2d_*128_f32   the same with 128 in place of 64
//   conv2d_dgrad_phase128_f32 (dilation 1) grid (ceil(N*ceil(H/sh)*ceil(W/sw)/128),
//                     ceil(Cg/128), groups*sh*sw)
//
// Entry points:
//   conv2d_fwd_f32(ConvParams p, const float* x, const float* w, const float* bias, float* y, float beta)
//   conv2d_modfwd_f32(ConvParams p, const float* x, const float* w, const float* in_scale,
//                     const float* out_scale, const float* noise, const float* noise_gain,
//                     int noise_n_stride, float* y, float* z)
//   conv2d_dgrad_f32(ConvParams p, const float* dy, const float* w, float* dx, float beta)
//   conv2d_wgrad_f32(ConvParams p, int k_split, const float* x, const float* dy, float* dw)
//   conv2d_fwd128_f32(ConvParams p, const float* x, const float* w, const float* bias, float* y, float beta)
//   conv2d_modfwd128_f32(ConvParams p, const float* x, const float* w, const float* in_scale,
//                        const float* out_scale, const float* noise, const float* noise_gain,
//                        int noise_n_stride, float* y, float* z)
//   conv2d_dgrad128_f32(ConvParams p, const float* dy, const float* w, float* dx, float beta)
//   conv2d_wgrad128_f32(ConvParams p, int k_split, const float* x, const float* dy, float* dw)
//   conv2d_dgrad_phase128_f32(ConvParams p, const float* dy, const float* w, float* dx, float beta)

struct ConvParams {
    int N, C, H, W;        // input
    int O, KH, KW, groups; // weight [O, C/groups, KH, KW]
    int OH, OW;            // output
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dil_h, dil_w;
};

#define CT_M 64
#define CT_N 64
#define CT_K 8
#define CT_PAD 4

// igemm runs the tile loop over k in [k_begin, k_end). The loader L supplies
// A(m, k) for the thread's A slots and B(k, col) for its B slots.
//   A slots: m = tid>>2, k = (tid&3)*2 + {0,1}
//   B slots: col = tid&63, k = (tid>>6) + {0,4}
template <class L>
__device__ __forceinline__ void igemm(L& l, int k_begin, int k_end, float (&acc)[4][4])
{
    __shared__ __align__(16) float As[2][CT_K][CT_M + CT_PAD]; // As[k][m]
    __shared__ __align__(16) float Bs[2][CT_K][CT_N + CT_PAD]; // Bs[k][col]
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int a_m = tid >> 2, a_k = (tid & 3) * 2;
    const int b_c = tid & 63, b_k = tid >> 6;
    float ra[2], rb[2];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    const int nk = (k_end - k_begin + CT_K - 1) / CT_K;
    for (int t = -1; t < nk; t++) {
        if (t + 1 < nk) {
            const int k0 = k_begin + (t + 1) * CT_K;
#pragma unroll
            for (int j = 0; j < 2; j++) {
                int ka = k0 + a_k + j;
                ra[j] = ka < k_end ? l.a(ka) : 0.0f;
                int kb = k0 + b_k + 4 * j;
                rb[j] = kb < k_end ? l.b(kb) : 0.0f;
            }
        }
        if (t >= 0) {
            const int buf = t & 1;
#pragma unroll
            for (int kk = 0; kk < CT_K; kk++) {
                float4 a = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
                float4 b = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
                float av[4] = {a.x, a.y, a.z, a.w};
                float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        if (t + 1 < nk) {
            const int nb = (t + 1) & 1;
#pragma unroll
            for (int j = 0; j < 2; j++) {
                As[nb][a_k + j][a_m] = ra[j];
                Bs[nb][b_k + 4 * j][b_c] = rb[j];
            }
        }
        __syncthreads();
    }
}

// Forward: A = weight rows of group g, B = im2col(x).
struct FwdLoader {
    const float* wrow; // weight row of this thread's A slot, or null past Og
    const float* xb;   // x[n, g*Cg] plane start for this thread's B column
    int ih0, iw0;      // top-left input position of the column's window
    bool col_ok;
    int KHW, KW, H, W, dh, dw;
    __device__ float a(int k) const { return wrow ? wrow[k] : 0.0f; }
    __device__ float b(int k) const
    {
        if (!col_ok) return 0.0f;
        int c = k / KHW, r = k - c * KHW;
        int kh = r / KW, kw = r - kh * KW;
        int ih = ih0 + kh * dh, iw = iw0 + kw * dw;
        if ((unsigned)ih >= (unsigned)H || (unsigned)iw >= (unsigned)W) return 0.0f;
        return xb[(c * H + ih) * W + iw];
    }
};

extern "C" __global__ void __launch_bounds__(256)
conv2d_fwd_f32(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
               const float* __restrict__ bias, float* __restrict__ y, float beta)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int KHW = p.KH * p.KW, K = Cg * KHW;
    const int OHW = p.OH * p.OW, NC = p.N * OHW;
    const int m0 = blockIdx.y * CT_M, c0 = blockIdx.x * CT_N;
    const int tid = threadIdx.x;

    FwdLoader l;
    const int am = m0 + (tid >> 2);
    l.wrow = am < Og ? w + (g * Og + am) * K : nullptr;
    const int col = c0 + (tid & 63);
    l.col_ok = col < NC;
    const int n = l.col_ok ? col / OHW : 0, r = col - n * OHW;
    const int oh = r / p.OW, ow = r - oh * p.OW;
    l.ih0 = oh * p.stride_h - p.pad_h;
    l.iw0 = ow * p.stride_w - p.pad_w;
    l.xb = x + (n * p.C + g * Cg) * p.H * p.W;
    l.KHW = KHW; l.KW = p.KW; l.H = p.H; l.W = p.W; l.dh = p.dil_h; l.dw = p.dil_w;

    float acc[4][4];
    igemm(l, 0, K, acc);

    const int tx = tid & 15, ty = tid >> 4;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
        if (m >= Og) continue;
        const int o = g * Og + m;
        const float bo = bias ? bias[o] : 0.0f;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int cc = c0 + tx * 4 + j;
            if (cc >= NC) continue;
            const int nn = cc / OHW, rr = cc - nn * OHW;
            float* py = y + ((nn * p.O + o) * OHW + rr);
            float v = acc[i][j] + bo;
            if (beta != 0.0f) v = fmaf(beta, *py, v);
            *py = v;
        }
    }
}

// Modulated forward: the forward's loader with the input scaled per (n, c) as
// it is gathered (the prologue); the column's n is fixed, so sb is one row of
// in_scale.
struct ModFwdLoader : FwdLoader {
    const float* sb; // in_scale[n, g*Cg] for this thread's B column, or null
    __device__ float b(int k) const
    {
        if (!col_ok) return 0.0f;
        int c = k / KHW, r = k - c * KHW;
        int kh = r / KW, kw = r - kh * KW;
        int ih = ih0 + kh * dh, iw = iw0 + kw * dw;
        if ((unsigned)ih >= (unsigned)H || (unsigned)iw >= (unsigned)W) return 0.0f;
        float v = xb[(c * H + ih) * W + iw];
        return sb ? v * sb[c] : v;
    }
};

extern "C" __global__ void __launch_bounds__(256)
conv2d_modfwd_f32(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
                  const float* __restrict__ in_scale, const float* __restrict__ out_scale,
                  const float* __restrict__ noise, const float* __restrict__ noise_gain,
                  int noise_n_stride, float* __restrict__ y, float* __restrict__ z)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int KHW = p.KH * p.KW, K = Cg * KHW;
    const int OHW = p.OH * p.OW, NC = p.N * OHW;
    const int m0 = blockIdx.y * CT_M, c0 = blockIdx.x * CT_N;
    const int tid = threadIdx.x;

    ModFwdLoader l;
    const int am = m0 + (tid >> 2);
    l.wrow = am < Og ? w + (g * Og + am) * K : nullptr;
    const int col = c0 + (tid & 63);
    l.col_ok = col < NC;
    const int n = l.col_ok ? col / OHW : 0, r = col - n * OHW;
    const int oh = r / p.OW, ow = r - oh * p.OW;
    l.ih0 = oh * p.stride_h - p.pad_h;
    l.iw0 = ow * p.stride_w - p.pad_w;
    l.xb = x + (n * p.C + g * Cg) * p.H * p.W;
    l.sb = in_scale ? in_scale + n * p.C + g * Cg : nullptr;
    l.KHW = KHW; l.KW = p.KW; l.H = p.H; l.W = p.W; l.dh = p.dil_h; l.dw = p.dil_w;

    float acc[4][4];
    igemm(l, 0, K, acc);

    // Epilogue: each thread's 4 columns fix (n, oh*OW+ow) and so the noise term.
    const int tx = tid & 15, ty = tid >> 4;
    const float gain = noise_gain ? *noise_gain : 1.0f;
    int cn[4], cr[4];
    float nz[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int cc = c0 + tx * 4 + j;
        cn[j] = cc < NC ? cc / OHW : 0;
        cr[j] = cc - cn[j] * OHW;
        nz[j] = (noise && cc < NC) ? noise[cn[j] * noise_n_stride + cr[j]] * gain : 0.0f;
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
        if (m >= Og) continue;
        const int o = g * Og + m;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if (c0 + tx * 4 + j >= NC) continue;
            const int yi = (cn[j] * p.O + o) * OHW + cr[j];
            float v = acc[i][j];
            if (z) z[yi] = v;
            if (out_scale) v *= out_scale[cn[j] * p.O + o];
            if (noise) v += nz[j];
            y[yi] = v;
        }
    }
}

// Input gradient: A(c, (o,kh,kw)) = w[g*Og+o, c, kh, kw], B((o,kh,kw), (n,ih,iw)) = dy gather.
struct DgradLoader {
    const float* wc; // w[g*Og, c] for this thread's A row, or null past Cg
    int wo_stride;   // Cg*KH*KW: step between output channels in w
    const float* dyb; // dy[n, g*Og] for this thread's B column
    int ih, iw;
    bool col_ok;
    int KHW, KW, OH, OW, sh, sw, ph, pw, dh, dw;
    __device__ float a(int k) const
    {
        if (!wc) return 0.0f;
        int o = k / KHW, r = k - o * KHW;
        return wc[o * wo_stride + r];
    }
    __device__ float b(int k) const
    {
        if (!col_ok) return 0.0f;
        int o = k / KHW, r = k - o * KHW;
        int kh = r / KW, kw = r - kh * KW;
        int th = ih + ph - kh * dh, tw = iw + pw - kw * dw;
        if (th < 0 || tw < 0) return 0.0f;
        int oh = th / sh, ow = tw / sw;
        if (oh * sh != th || ow * sw != tw || oh >= OH || ow >= OW) return 0.0f;
        return dyb[(o * OH + oh) * OW + ow];
    }
};

extern "C" __global__ void __launch_bounds__(256)
conv2d_dgrad_f32(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w,
                 float* __restrict__ dx, float beta)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int KHW = p.KH * p.KW, K = Og * KHW;
    const int HW = p.H * p.W, NC = p.N * HW, OHW = p.OH * p.OW;
    const int m0 = blockIdx.y * CT_M, c0 = blockIdx.x * CT_N;
    const int tid = threadIdx.x;

    DgradLoader l;
    const int am = m0 + (tid >> 2);
    l.wo_stride = Cg * KHW;
    l.wc = am < Cg ? w + (g * Og * Cg + am) * KHW : nullptr;
    const int col = c0 + (tid & 63);
    l.col_ok = col < NC;
    const int n = l.col_ok ? col / HW : 0, r = col - n * HW;
    l.ih = r / p.W;
    l.iw = r - l.ih * p.W;
    l.dyb = dy + (n * p.O + g * Og) * OHW;
    l.KHW = KHW; l.KW = p.KW; l.OH = p.OH; l.OW = p.OW;
    l.sh = p.stride_h; l.sw = p.stride_w; l.ph = p.pad_h; l.pw = p.pad_w; l.dh = p.dil_h; l.dw = p.dil_w;

    float acc[4][4];
    igemm(l, 0, K, acc);

    const int tx = tid & 15, ty = tid >> 4;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
        if (m >= Cg) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int cc = c0 + tx * 4 + j;
            if (cc >= NC) continue;
            const int nn = cc / HW, rr = cc - nn * HW;
            float* px = dx + ((nn * p.C + g * Cg + m) * HW + rr);
            float v = acc[i][j];
            if (beta != 0.0f) v = fmaf(beta, *px, v);
            *px = v;
        }
    }
}

// Weight gradient: A(o, (n,oh,ow)) = dy, B((n,oh,ow), (c,kh,kw)) = im2col(x)^T.
struct WgradLoader {
    const float* dyo; // dy[0, g*Og+o] for this thread's A row, or null past Og
    const float* xc;  // x[0, g*Cg+c] for this thread's B column
    int kh_off, kw_off; // kh*dh - ph, kw*dw - pw of the column
    bool col_ok;
    int OHW, OW, O_HW, C_HW, H, W, sh, sw;
    __device__ float a(int k) const
    {
        if (!dyo) return 0.0f;
        int n = k / OHW, r = k - n * OHW;
        return dyo[n * O_HW + r];
    }
    __device__ float b(int k) const
    {
        if (!col_ok) return 0.0f;
        int n = k / OHW, r = k - n * OHW;
        int oh = r / OW, ow = r - oh * OW;
        int ih = oh * sh + kh_off, iw = ow * sw + kw_off;
        if ((unsigned)ih >= (unsigned)H || (unsigned)iw >= (unsigned)W) return 0.0f;
        return xc[n * C_HW + ih * W + iw];
    }
};

extern "C" __global__ void __launch_bounds__(256)
conv2d_wgrad_f32(ConvParams p, int k_split, const float* __restrict__ x, const float* __restrict__ dy,
                 float* __restrict__ dw)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups;
    const int KHW = p.KH * p.KW, NCOL = Cg * KHW;
    const int OHW = p.OH * p.OW, K = p.N * OHW;
    const int splits = (K + k_split - 1) / k_split;
    const int g = blockIdx.z / splits, s = blockIdx.z - g * splits;
    const int k_begin = s * k_split, k_end = min(K, k_begin + k_split);
    const int m0 = blockIdx.y * CT_M, c0 = blockIdx.x * CT_N;
    const int tid = threadIdx.x;

    WgradLoader l;
    const int am = m0 + (tid >> 2);
    l.dyo = am < Og ? dy + (g * Og + am) * OHW : nullptr;
    const int col = c0 + (tid & 63);
    l.col_ok = col < NCOL;
    const int c = l.col_ok ? col / KHW : 0, r = col - c * KHW;
    const int kh = r / p.KW, kw = r - kh * p.KW;
    l.kh_off = kh * p.dil_h - p.pad_h;
    l.kw_off = kw * p.dil_w - p.pad_w;
    l.xc = x + (g * Cg + c) * p.H * p.W;
    l.OHW = OHW; l.OW = p.OW; l.O_HW = p.O * OHW; l.C_HW = p.C * p.H * p.W;
    l.H = p.H; l.W = p.W; l.sh = p.stride_h; l.sw = p.stride_w;

    float acc[4][4];
    igemm(l, k_begin, k_end, acc);

    const int tx = tid & 15, ty = tid >> 4;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
        if (m >= Og) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int cc = c0 + tx * 4 + j;
            if (cc >= NCOL) continue;
            atomicAdd(dw + ((g * Og + m) * NCOL + cc), acc[i][j]);
        }
    }
}

// ---------------------------------------------------------------------------
// The 128x128 versions (see the header).

#define CB_M 128
#define CB_N 128
#define CB_K 8
#define CB_PAD 4

// igemm128 runs the tile loop over k in [k_begin, k_end). Thread slots:
//   A, A_MFAST false: m = tid>>1,          k = (tid&1)*4 + j
//   A, A_MFAST true:  m = (tid&31)*4 + j,  k = tid>>5
//   B, B_KFAST false: n = (tid&31)*4 + j,  k = tid>>5
//   B, B_KFAST true:  n = tid>>1,          k = (tid&1)*4 + j
// l.a(k0, k_end, r) and l.b(k0, k_end, r) fill the thread's 4 values of the
// step starting at k0 (zero past k_end or the matrix).
template <bool A_MFAST, bool B_KFAST, class L>
__device__ __forceinline__ void igemm128(L& l, int k_begin, int k_end, float (&acc)[8][8])
{
    __shared__ __align__(16) float As[2][CB_K][CB_M + CB_PAD]; // As[k][m]
    __shared__ __align__(16) float Bs[2][CB_K][CB_N + CB_PAD]; // Bs[k][n]
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int a_m = A_MFAST ? (tid & 31) * 4 : tid >> 1;
    const int a_k = A_MFAST ? tid >> 5 : (tid & 1) * 4;
    const int b_k = B_KFAST ? (tid & 1) * 4 : tid >> 5;
    const int b_n = B_KFAST ? tid >> 1 : (tid & 31) * 4;
    float ra[4], rb[4];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;

    const int nk = (k_end - k_begin + CB_K - 1) / CB_K;
    for (int t = -1; t < nk; t++) {
        if (t + 1 < nk) {
            const int k0 = k_begin + (t + 1) * CB_K;
            l.a(k0, k_end, ra);
            l.b(k0, k_end, rb);
        }
        if (t >= 0) {
            const int buf = t & 1;
#pragma unroll
            for (int kk = 0; kk < CB_K; kk++) {
                float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
                float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][64 + ty * 4]);
                float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
                float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
                float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
                float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
                for (int i = 0; i < 8; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        if (t + 1 < nk) {
            const int nb = (t + 1) & 1;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (A_MFAST) As[nb][a_k][a_m + j] = ra[j]; else As[nb][a_k + j][a_m] = ra[j];
            }
            if (B_KFAST) {
#pragma unroll
                for (int j = 0; j < 4; j++) Bs[nb][b_k + j][b_n] = rb[j];
            } else {
                *reinterpret_cast<float4*>(&Bs[nb][b_k][b_n]) = make_float4(rb[0], rb[1], rb[2], rb[3]);
            }
        }
        __syncthreads();
    }
}

// The tile row and column of a thread's output (i, j), i, j < 8.
__device__ __forceinline__ int cb_row(int i) { return i < 4 ? (threadIdx.x >> 4) * 4 + i : 64 + (threadIdx.x >> 4) * 4 + i - 4; }
__device__ __forceinline__ int cb_col(int j) { return j < 4 ? (threadIdx.x & 15) * 4 + j : 64 + (threadIdx.x & 15) * 4 + j - 4; }

// Rows of the weight, k contiguous: A(m, k) = wrow[k] (forward A, k-fast).
struct WRowsA {
    const float* wrow; // null past the last row
    __device__ void a(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x & 1) * 4;
#pragma unroll
        for (int j = 0; j < 4; j++) r[j] = (wrow && k + j < k_end) ? wrow[k + j] : 0.0f;
    }
};

// im2col(x) columns for the forward: column n = (img, oh, ow); k = (c, kh, kw).
// sIn, when set, scales x[img, c] by sIn[img*C + g*Cg + c] (modulation).
struct Im2colB {
    const float* x;
    const float* sIn;
    int base[4];      // offset of x[img, g*Cg, ih0, iw0] (ih0, iw0 may be negative)
    int ih0[4], iw0[4]; // ih0 = INT_MIN/2 for a column past the matrix
    int sbase[4];     // img*C + g*Cg
    int KHW, KW, H, W, HW, dh, dw;
    __device__ void b(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x >> 5);
        if (k >= k_end) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
        const int c = k / KHW, rr = k - c * KHW;
        const int kh = rr / KW, kw = rr - kh * KW;
        const int dy = kh * dh, dx = kw * dw, off = c * HW + dy * W + dx;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int ih = ih0[j] + dy, iw = iw0[j] + dx;
            float v = ((unsigned)ih < (unsigned)H && (unsigned)iw < (unsigned)W) ? x[base[j] + off] : 0.0f;
            if (sIn) v *= sIn[sbase[j] + c];
            r[j] = v;
        }
    }
};

// setupIm2col fills l's columns n0 + (tid&31)*4 + j.
__device__ __forceinline__ void setupIm2col(Im2colB& l, const ConvParams& p, int g, int n0, const float* x,
                                            const float* sIn)
{
    const int Cg = p.C / p.groups, OHW = p.OH * p.OW, NC = p.N * OHW;
    l.x = x;
    l.sIn = sIn;
    l.KHW = p.KH * p.KW; l.KW = p.KW; l.H = p.H; l.W = p.W; l.HW = p.H * p.W; l.dh = p.dil_h; l.dw = p.dil_w;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int col = n0 + (threadIdx.x & 31) * 4 + j;
        if (col < NC) {
            const int img = col / OHW, rr = col - img * OHW;
            const int oh = rr / p.OW, ow = rr - oh * p.OW;
            l.ih0[j] = oh * p.stride_h - p.pad_h;
            l.iw0[j] = ow * p.stride_w - p.pad_w;
            l.base[j] = (img * p.C + g * Cg) * l.HW + l.ih0[j] * p.W + l.iw0[j];
            l.sbase[j] = img * p.C + g * Cg;
        } else {
            l.ih0[j] = -(1 << 30); // every row check fails
            l.iw0[j] = 0;
            l.base[j] = 0;
            l.sbase[j] = 0;
        }
    }
}

struct FwdLoader128 : WRowsA, Im2colB {};

extern "C" __global__ void __launch_bounds__(256, 2)
conv2d_fwd128_f32(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
                  const float* __restrict__ bias, float* __restrict__ y, float beta)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int K = Cg * p.KH * p.KW, OHW = p.OH * p.OW, NC = p.N * OHW;
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    FwdLoader128 l;
    const int am = m0 + (threadIdx.x >> 1);
    l.wrow = am < Og ? w + (g * Og + am) * K : nullptr;
    setupIm2col(l, p, g, n0, x, nullptr);
    float acc[8][8];
    igemm128<false, false>(l, 0, K, acc);
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int cc = n0 + cb_col(j);
        if (cc >= NC) continue;
        const int nn = cc / OHW, rr = cc - nn * OHW;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int m = m0 + cb_row(i);
            if (m >= Og) continue;
            const int o = g * Og + m;
            float* py = y + ((nn * p.O + o) * OHW + rr);
            float v = acc[i][j] + (bias ? bias[o] : 0.0f);
            if (beta != 0.0f) v = fmaf(beta, *py, v);
            *py = v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256, 2)
conv2d_modfwd128_f32(ConvParams p, const float* __restrict__ x, const float* __restrict__ w,
                     const float* __restrict__ in_scale, const float* __restrict__ out_scale,
                     const float* __restrict__ noise, const float* __restrict__ noise_gain,
                     int noise_n_stride, float* __restrict__ y, float* __restrict__ z)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int K = Cg * p.KH * p.KW, OHW = p.OH * p.OW, NC = p.N * OHW;
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    FwdLoader128 l;
    const int am = m0 + (threadIdx.x >> 1);
    l.wrow = am < Og ? w + (g * Og + am) * K : nullptr;
    setupIm2col(l, p, g, n0, x, in_scale);
    float acc[8][8];
    igemm128<false, false>(l, 0, K, acc);
    const float gain = noise_gain ? *noise_gain : 1.0f;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int cc = n0 + cb_col(j);
        if (cc >= NC) continue;
        const int nn = cc / OHW, rr = cc - nn * OHW;
        const float nz = noise ? noise[nn * noise_n_stride + rr] * gain : 0.0f;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int m = m0 + cb_row(i);
            if (m >= Og) continue;
            const int o = g * Og + m;
            const int yi = (nn * p.O + o) * OHW + rr;
            float v = acc[i][j];
            if (z) z[yi] = v;
            if (out_scale) v *= out_scale[nn * p.O + o];
            if (noise) v += nz;
            y[yi] = v;
        }
    }
}

// Input gradient. A(c, k = (o, kh, kw)) = w[g*Og + o, c, kh, kw], m-fast: the
// thread's k is one per step, its 4 rows are channels c..c+3.
struct DgradA128 {
    const float* wg; // w[g*Og, 0, 0, 0]
    int c0;          // first of the thread's 4 rows
    int Cg, KHW;
    __device__ void a(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x >> 5);
        if (k >= k_end) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
        const int o = k / KHW, rr = k - o * KHW;
        const float* p = wg + (o * Cg + c0) * KHW + rr;
#pragma unroll
        for (int j = 0; j < 4; j++) r[j] = c0 + j < Cg ? p[j * KHW] : 0.0f;
    }
};

// B(k = (o, kh, kw), n = (img, ih, iw)) = dy[img, g*Og + o, oh, ow] where
// ih = oh*sh - ph + kh*dh (likewise w), else 0.
struct DgradB128 {
    const float* dy;
    int dbase[4];       // offset of dy[img, g*Og, 0, 0]
    int ihp[4], iwp[4]; // ih + ph, iw + pw; ihp = -(1<<30) past the matrix
    int KHW, KW, OH, OW, OHW, sh, sw, dh, dw;
    __device__ void b(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x >> 5);
        if (k >= k_end) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
        const int o = k / KHW, rr = k - o * KHW;
        const int kh = rr / KW, kw = rr - kh * KW;
        const int off = o * OHW;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int th = ihp[j] - kh * dh, tw = iwp[j] - kw * dw;
            float v = 0.0f;
            if (th >= 0 && tw >= 0) {
                const int oh = sh == 1 ? th : th / sh, ow = sw == 1 ? tw : tw / sw;
                if (oh * sh == th && ow * sw == tw && oh < OH && ow < OW) v = dy[dbase[j] + off + oh * OW + ow];
            }
            r[j] = v;
        }
    }
};

struct DgradLoader128 : DgradA128, DgradB128 {};

// dgrad_store128 writes an input-gradient tile: column cc's 8 results go to
// dx[img, g*Cg + m, pix], with (img, pix) = pixel_of(cc) (beta as in the
// header).
template <class PixelOf>
__device__ __forceinline__ void dgrad_store128(const float (&acc)[8][8], const ConvParams& p, int g, int m0, int n0,
                                               int NC, float beta, float* __restrict__ dx, const PixelOf& pixel_of)
{
    const int Cg = p.C / p.groups, HW = p.H * p.W;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int cc = n0 + cb_col(j);
        if (cc >= NC) continue;
        int img, pix;
        pixel_of(cc, img, pix);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int m = m0 + cb_row(i);
            if (m >= Cg) continue;
            float* px = dx + ((img * p.C + g * Cg + m) * HW + pix);
            float v = acc[i][j];
            if (beta != 0.0f) v = fmaf(beta, *px, v);
            *px = v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256, 2)
conv2d_dgrad128_f32(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w,
                    float* __restrict__ dx, float beta)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups, g = blockIdx.z;
    const int KHW = p.KH * p.KW, K = Og * KHW;
    const int HW = p.H * p.W, NC = p.N * HW, OHW = p.OH * p.OW;
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    DgradLoader128 l;
    l.wg = w + g * Og * Cg * KHW;
    l.c0 = m0 + (threadIdx.x & 31) * 4;
    l.Cg = Cg;
    l.DgradA128::KHW = KHW;
    l.dy = dy;
    l.DgradB128::KHW = KHW;
    l.KW = p.KW; l.OH = p.OH; l.OW = p.OW; l.OHW = OHW;
    l.sh = p.stride_h; l.sw = p.stride_w; l.dh = p.dil_h; l.dw = p.dil_w;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int col = n0 + (threadIdx.x & 31) * 4 + j;
        if (col < NC) {
            const int img = col / HW, rr = col - img * HW;
            const int ih = rr / p.W, iw = rr - ih * p.W;
            l.ihp[j] = ih + p.pad_h;
            l.iwp[j] = iw + p.pad_w;
            l.dbase[j] = (img * p.O + g * Og) * OHW;
        } else {
            l.ihp[j] = -(1 << 30);
            l.iwp[j] = 0;
            l.dbase[j] = 0;
        }
    }
    float acc[8][8];
    igemm128<true, false>(l, 0, K, acc);
    dgrad_store128(acc, p, g, m0, n0, NC, beta, dx, [&](int cc, int& img, int& pix) {
        img = cc / HW;
        pix = cc - img * HW;
    });
}

// Strided input gradient by phases (conv2d_dgrad_phase128_f32; dilation 1):
// conv2d_dgrad128_f32 gathers all KH*KW taps for every pixel, and with stride
// s finds (s^2-1)/s^2 of them zero: 3/4 of its multiply-adds at s = 2, where
// it is the transposed convolution of every up-2 layer and the input gradient
// of every down-2 layer. Here the pixels of dx split into s_h*s_w classes by
// (ih + ph) mod s_h and (iw + pw) mod s_w; in class (rh, rw) the only taps are
// kh = rh + i*s_h, kw = rw + j*s_w, and the dy row they meet is ohb - i with
// ohb = (ih + ph - rh) / s_h (exact), so the gather needs no division. Each
// class is its own GEMM (Cg x Og*nkh*nkw times its gathered dy); grid.z runs
// over groups x classes, and a class with no taps writes zeros (or beta*dx).
struct PhaseGeom {
    int rh, rw;     // tap residues of the class
    int ih0, iw0;   // first pixel of the class: (ih0 + ph) mod s_h == rh
    int Hc, Wc;     // pixels of the class per image along each axis
    int nkh, nkw;   // taps of the class along each axis
};

__device__ __forceinline__ PhaseGeom phase_geom(const ConvParams& p, int phase)
{
    PhaseGeom q;
    q.rh = phase / p.stride_w;
    q.rw = phase - q.rh * p.stride_w;
    q.ih0 = ((q.rh - p.pad_h) % p.stride_h + p.stride_h) % p.stride_h;
    q.iw0 = ((q.rw - p.pad_w) % p.stride_w + p.stride_w) % p.stride_w;
    q.Hc = q.ih0 < p.H ? (p.H - q.ih0 + p.stride_h - 1) / p.stride_h : 0;
    q.Wc = q.iw0 < p.W ? (p.W - q.iw0 + p.stride_w - 1) / p.stride_w : 0;
    q.nkh = q.rh < p.KH ? (p.KH - q.rh + p.stride_h - 1) / p.stride_h : 0;
    q.nkw = q.rw < p.KW ? (p.KW - q.rw + p.stride_w - 1) / p.stride_w : 0;
    return q;
}

// phase_tap decodes the thread's k of a step into (o, i, j); false past k_end.
__device__ __forceinline__ bool phase_tap(int k, int k_end, int nkhw, int nkw, int& o, int& i, int& j)
{
    if (k >= k_end) return false;
    o = k / nkhw;
    const int t = k - o * nkhw;
    i = t / nkw;
    j = t - i * nkw;
    return true;
}

// A(c, k = (o, i, j)) = w[g*Og + o, c, rh + i*s_h, rw + j*s_w], m-fast.
struct PhaseA128 {
    const float* wg;
    int c0, Cg, KHW, KW, nkhw, nkw, rh, rw, sh, sw;
    __device__ void a(int k0, int k_end, float (&r)[4]) const
    {
        int o, i, j;
        if (!phase_tap(k0 + (threadIdx.x >> 5), k_end, nkhw, nkw, o, i, j)) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
        const float* p = wg + (o * Cg + c0) * KHW + (rh + i * sh) * KW + rw + j * sw;
#pragma unroll
        for (int q = 0; q < 4; q++) r[q] = c0 + q < Cg ? p[q * KHW] : 0.0f;
    }
};

// B(k = (o, i, j), pixel) = dy[img, g*Og + o, ohb - i, owb - j].
struct PhaseB128 {
    const float* dy;
    int dbase[4];     // offset of dy[img, g*Og, 0, 0]
    int ohb[4], owb[4]; // ohb = -(1<<30) past the matrix
    int nkhw, nkw, OH, OW, OHW;
    __device__ void b(int k0, int k_end, float (&r)[4]) const
    {
        int o, i, j;
        if (!phase_tap(k0 + (threadIdx.x >> 5), k_end, nkhw, nkw, o, i, j)) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int oh = ohb[q] - i, ow = owb[q] - j;
            r[q] = ((unsigned)oh < (unsigned)OH && (unsigned)ow < (unsigned)OW) ? dy[dbase[q] + o * OHW + oh * OW + ow] : 0.0f;
        }
    }
};

struct PhaseLoader128 : PhaseA128, PhaseB128 {};

extern "C" __global__ void __launch_bounds__(256, 2)
conv2d_dgrad_phase128_f32(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
               float beta)
{
    const int phases = p.stride_h * p.stride_w;
    const int g = blockIdx.z / phases, phase = blockIdx.z - g * phases;
    const PhaseGeom q = phase_geom(p, phase);
    const int Cg = p.C / p.groups, Og = p.O / p.groups, KHW = p.KH * p.KW;
    const int HWc = q.Hc * q.Wc, NC = p.N * HWc, OHW = p.OH * p.OW;
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    if (n0 >= NC) return; // the class is smaller than the grid's widest one
    PhaseLoader128 l;
    l.wg = w + g * Og * Cg * KHW;
    l.c0 = m0 + (threadIdx.x & 31) * 4;
    l.Cg = Cg;
    l.KHW = KHW;
    l.KW = p.KW;
    l.PhaseA128::nkhw = q.nkh * q.nkw;
    l.PhaseA128::nkw = q.nkw;
    l.rh = q.rh; l.rw = q.rw; l.sh = p.stride_h; l.sw = p.stride_w;
    l.dy = dy;
    l.PhaseB128::nkhw = q.nkh * q.nkw;
    l.PhaseB128::nkw = q.nkw;
    l.OH = p.OH; l.OW = p.OW; l.OHW = OHW;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int col = n0 + (threadIdx.x & 31) * 4 + j;
        if (col < NC) {
            const int img = col / HWc, rr = col - img * HWc;
            const int a = rr / q.Wc, b = rr - a * q.Wc;
            const int ih = q.ih0 + a * p.stride_h, iw = q.iw0 + b * p.stride_w;
            l.ohb[j] = (ih + p.pad_h - q.rh) / p.stride_h;
            l.owb[j] = (iw + p.pad_w - q.rw) / p.stride_w;
            l.dbase[j] = (img * p.O + g * Og) * OHW;
        } else {
            l.ohb[j] = -(1 << 30);
            l.owb[j] = 0;
            l.dbase[j] = 0;
        }
    }
    float acc[8][8];
    igemm128<true, false>(l, 0, Og * q.nkh * q.nkw, acc);
    dgrad_store128(acc, p, g, m0, n0, NC, beta, dx, [&](int cc, int& img, int& pix) {
        img = cc / HWc;
        const int rr = cc - img * HWc, a = rr / q.Wc, b = rr - a * q.Wc;
        pix = (q.ih0 + a * p.stride_h) * p.W + q.iw0 + b * p.stride_w;
    });
}

// Weight gradient. A(o, k = (img, oh, ow)) = dy[img, g*Og + o, oh, ow], k-fast:
// the thread's 4 consecutive k share one image when OHW % 4 == 0 (k_begin and
// the step are multiples of 4).
struct WgradA128 {
    const float* dyo; // dy[0, g*Og + o], null past the last row
    int OHW, O_HW;
    __device__ void a(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x & 1) * 4;
        if (!dyo) {
            r[0] = r[1] = r[2] = r[3] = 0.0f;
            return;
        }
        if ((OHW & 3) == 0 && k + 3 < k_end) {
            const int img = k / OHW, rr = k - img * OHW;
            const float* p = dyo + img * O_HW + rr;
#pragma unroll
            for (int j = 0; j < 4; j++) r[j] = p[j];
            return;
        }
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int kk = k + j;
            const int img = kk / OHW, rr = kk - img * OHW;
            r[j] = kk < k_end ? dyo[img * O_HW + rr] : 0.0f;
        }
    }
};

// B(k = (img, oh, ow), n = (c, kh, kw)) = x[img, g*Cg + c, oh*sh - ph + kh*dh, ...],
// k-fast: the thread's column is fixed and its 4 k are consecutive pixels,
// so a warp reads along image rows. (Reading 4 columns of one pixel instead
// touched 14 channel planes per warp load: 33% of the FP32 peak on an H200
// where the forward reached 49%.)
struct WgradB128 {
    const float* x;
    int xoff;         // offset of x[0, g*Cg + c, 0, 0]
    int khoff, kwoff; // kh*dh - ph, kw*dw - pw; khoff = -(1<<30) past the matrix
    int OHW, OW, C_HW, H, W, sh, sw;
    __device__ float at(int k) const
    {
        const int img = k / OHW, rr = k - img * OHW;
        const int oh = rr / OW, ow = rr - oh * OW;
        const int ih = oh * sh + khoff, iw = ow * sw + kwoff;
        return ((unsigned)ih < (unsigned)H && (unsigned)iw < (unsigned)W) ? x[img * C_HW + xoff + ih * W + iw] : 0.0f;
    }
    __device__ void b(int k0, int k_end, float (&r)[4]) const
    {
        const int k = k0 + (threadIdx.x & 1) * 4;
        if ((OW & 3) == 0 && k + 3 < k_end) { // one image row: decode once
            const int img = k / OHW, rr = k - img * OHW;
            const int oh = rr / OW, ow = rr - oh * OW;
            const int ih = oh * sh + khoff;
            const bool rowOK = (unsigned)ih < (unsigned)H;
            const float* xr = x + img * C_HW + xoff + (rowOK ? ih : 0) * W;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int iw = (ow + j) * sw + kwoff;
                r[j] = (rowOK && (unsigned)iw < (unsigned)W) ? xr[iw] : 0.0f;
            }
            return;
        }
#pragma unroll
        for (int j = 0; j < 4; j++) r[j] = k + j < k_end ? at(k + j) : 0.0f;
    }
};

struct WgradLoader128 : WgradA128, WgradB128 {};

extern "C" __global__ void __launch_bounds__(256, 2)
conv2d_wgrad128_f32(ConvParams p, int k_split, const float* __restrict__ x, const float* __restrict__ dy,
                    float* __restrict__ dw)
{
    const int Cg = p.C / p.groups, Og = p.O / p.groups;
    const int KHW = p.KH * p.KW, NCOL = Cg * KHW;
    const int OHW = p.OH * p.OW, K = p.N * OHW;
    const int splits = (K + k_split - 1) / k_split;
    const int g = blockIdx.z / splits, s = blockIdx.z - g * splits;
    const int k_begin = s * k_split, k_end = min(K, k_begin + k_split);
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    WgradLoader128 l;
    const int am = m0 + (threadIdx.x >> 1);
    l.dyo = am < Og ? dy + (g * Og + am) * OHW : nullptr;
    l.WgradA128::OHW = OHW;
    l.O_HW = p.O * OHW;
    l.x = x;
    l.WgradB128::OHW = OHW;
    l.OW = p.OW; l.C_HW = p.C * p.H * p.W; l.H = p.H; l.W = p.W; l.sh = p.stride_h; l.sw = p.stride_w;
    const int col = n0 + (threadIdx.x >> 1);
    if (col < NCOL) {
        const int c = col / KHW, rr = col - c * KHW;
        const int kh = rr / p.KW, kw = rr - kh * p.KW;
        l.xoff = (g * Cg + c) * p.H * p.W;
        l.khoff = kh * p.dil_h - p.pad_h;
        l.kwoff = kw * p.dil_w - p.pad_w;
    } else {
        l.xoff = 0;
        l.khoff = -(1 << 30);
        l.kwoff = 0;
    }
    float acc[8][8];
    igemm128<false, true>(l, k_begin, k_end, acc);
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int m = m0 + cb_row(i);
        if (m >= Og) continue;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int cc = n0 + cb_col(j);
            if (cc >= NCOL) continue;
            atomicAdd(dw + ((g * Og + m) * NCOL + cc), acc[i][j]);
        }
    }
}
