// conv2d.cu: 2-D convolution (PyTorch conv2d: cross-correlation, NCHW) as
// implicit GEMM, forward and both gradients, with stride, padding, dilation
// and groups.
//
//   forward  y[n,o,oh,ow] = bias[o] + sum_{c,kh,kw} x[n, g*Cg+c, oh*sh-ph+kh*dh, ow*sw-pw+kw*dw] * w[o,c,kh,kw]
//            GEMM per group g: (Og x Cg*KH*KW) weight times im2col(x) (Cg*KH*KW x N*OH*OW).
//   dgrad    dx[n,c,ih,iw] = sum_{o,kh,kw : ih = oh*sh-ph+kh*dh, iw likewise} dy[n,o,oh,ow] * w[o,c,kh,kw]
//            GEMM per group: (Cg x Og*KH*KW) times a gather of dy (Og*KH*KW x N*H*W).
//            With stride s only 1/s^2 of the gathered dy is non-zero: correct but that
//            much slower than the forward. This is also conv_transpose2d: the
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
// Launch (block 256):
//   conv2d_fwd_f32    grid (ceil(N*OH*OW/64), ceil(Og/64), groups)
//   conv2d_modfwd_f32 grid (ceil(N*OH*OW/64), ceil(Og/64), groups), as the forward
//   conv2d_dgrad_f32  grid (ceil(N*H*W/64),   ceil(Cg/64), groups)
//   conv2d_wgrad_f32  grid (ceil(Cg*KH*KW/64), ceil(Og/64), groups*splits) with
//                     splits = ceil(N*OH*OW / k_split), k_split a multiple of 8
//                     (pick splits so the grid fills the GPU, ~2-4 blocks per SM)
//
// Entry points:
//   conv2d_fwd_f32(ConvParams p, const float* x, const float* w, const float* bias, float* y, float beta)
//   conv2d_modfwd_f32(ConvParams p, const float* x, const float* w, const float* in_scale,
//                     const float* out_scale, const float* noise, const float* noise_gain,
//                     int noise_n_stride, float* y, float* z)
//   conv2d_dgrad_f32(ConvParams p, const float* dy, const float* w, float* dx, float beta)
//   conv2d_wgrad_f32(ConvParams p, int k_split, const float* x, const float* dy, float* dw)

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
