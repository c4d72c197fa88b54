// conv_variants.cuh: candidate convolution kernels for variants.cu; device
// code only (NVRTC checks it where nvcc is missing). Needs conv2d.cu first.
//
// dgrad_phase128: conv2d_dgrad128_f32's contract (dilation 1) computing only
// the taps that meet an output pixel. With stride s the engine's input
// gradient (which is also the transposed convolution of every up-2 layer)
// gathers all KH*KW taps per pixel and finds (s^2-1)/s^2 of them zero: 3/4
// of its multiply-adds at s = 2. Here the pixels of dx split into s_h*s_w
// classes by (ih + ph) mod s_h and (iw + pw) mod s_w; in class (rh, rw) the
// only taps are kh = rh + i*s_h, kw = rw + j*s_w, and the dy row they meet is
// ohb - i with ohb = (ih + ph - rh) / s_h, so the gather needs no division.
// Launch: block 256, grid (ceil(N*ceil(H/s_h)*ceil(W/s_w)/128), ceil(Cg/128),
// groups*s_h*s_w); same parameters as conv2d_dgrad128_f32.
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
struct PhaseA {
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
struct PhaseB {
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

struct PhaseLoader : PhaseA, PhaseB {};

extern "C" __global__ void __launch_bounds__(256, 2)
dgrad_phase128(ConvParams p, const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
               float beta)
{
    const int phases = p.stride_h * p.stride_w;
    const int g = blockIdx.z / phases, phase = blockIdx.z - g * phases;
    const PhaseGeom q = phase_geom(p, phase);
    const int Cg = p.C / p.groups, Og = p.O / p.groups, KHW = p.KH * p.KW;
    const int HWc = q.Hc * q.Wc, NC = p.N * HWc, OHW = p.OH * p.OW, HW = p.H * p.W;
    const int m0 = blockIdx.y * CB_M, n0 = blockIdx.x * CB_N;
    if (n0 >= NC) return; // the class is smaller than the grid's widest one
    PhaseLoader l;
    l.wg = w + g * Og * Cg * KHW;
    l.c0 = m0 + (threadIdx.x & 31) * 4;
    l.Cg = Cg;
    l.KHW = KHW;
    l.KW = p.KW;
    l.PhaseA::nkhw = q.nkh * q.nkw;
    l.PhaseA::nkw = q.nkw;
    l.rh = q.rh; l.rw = q.rw; l.sh = p.stride_h; l.sw = p.stride_w;
    l.dy = dy;
    l.PhaseB::nkhw = q.nkh * q.nkw;
    l.PhaseB::nkw = q.nkw;
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
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int cc = n0 + cb_col(j);
        if (cc >= NC) continue;
        const int img = cc / HWc, rr = cc - img * HWc;
        const int a = rr / q.Wc, b = rr - a * q.Wc;
        const int pix = (q.ih0 + a * p.stride_h) * p.W + q.iw0 + b * p.stride_w;
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
