// winograd.cu: 3x3 convolution by Winograd's minimal filtering, stride 1 as
// F(m x m, 3x3), m = 2 or 4, and stride 2 by phases as F(4x4, 2x2) (below).
// At stride 1 each m x m output tile is
//   A^T [(G g G^T) . (B^T d B)] A
// with d the (m+2) x (m+2) input patch and g the 3x3 filter: (m+2)^2
// multiplies per tile where direct convolution takes 9 m^2 (16 for 36 at
// m = 2, 36 for 144 at m = 4). Summed over input channels, the elementwise
// products become (m+2)^2 independent GEMMs, run by sgemm.cu:
//   M[xi] (R x P) = U[xi] (R x K) V[xi] (K x P),
// with K input channels, R output channels and P = N * TH * TW tiles
// (TH = ceil(OH/m), TW = ceil(OW/m)). Kernels around the GEMMs:
//   wino_weight_f32   U[xi][r][k] = (G g G^T)[xi] for g the filter from input
//                     channel k to output channel r. dgrad = 0: w [R, K, 3, 3]
//                     (a forward conv); dgrad = 1: w [K, R, 3, 3] read
//                     transposed and rotated by 180 degrees, the filter of the
//                     input gradient of that conv as a conv of dy.
//   wino_input_f32    V[xi][k][p] = (B^T d B)[xi], d the patch of input image
//                     n, channel k at rows m*ty - pad_h + 0..m+1 (zero
//                     outside), times in_scale[n, k] when given (modulation:
//                     linear, so scaling the input first is exact).
//   wino_output_f32   the tile A^T M A, then the forward's epilogues:
//                     z = tile (kept for the demodulation's gradient) when z is
//                     not null; y = tile * out_scale[n, r] + bias[r] +
//                     noise[n * noise_n_stride + oh * OW + ow] * noise_gain[0]
//                     + beta * y (each term only when its pointer is set;
//                     beta 0 does not read y).
// The input gradient of a stride-1 3x3 conv with padding ph is the conv of dy
// with the rotated, transposed filter and padding 2 - ph, so one path serves
// the forward, the modulated forward and the input gradient.
//
// The weight gradient is the forward's adjoint: with Y_t = A^T (U . V_t) A,
//   dW = G^T [sum_t (A dY_t A^T) . V_t] G,
// (m+2)^2 GEMMs Z[xi] (R x K) = E[xi] (R x P) V[xi]^T (P x K) over the tiles:
//   wino_dy_f32       E[xi][r][p] = (A e A^T)[xi], e the m x m tile of dy
//                     (zero past the output's edge), p as for the input.
//   wino_wgrad_f32    dw[r, k] = G^T Z[.][r][k] G (3x3), written (not added).
//
// Stride-2 3x3 convolutions by phases (p.gather, p.scatter): with the input split into
// its four phases x_ab[i][j] = x[2i + a - pad][2j + b - pad] taken as 4C
// channels, a stride-2 3x3 conv is a stride-1 2x2 conv of those (the filter of
// phase (a, b) holds the taps (2u + a, 2v + b), zero past 3x3), done by
// F(4x4, 2x2): 25 multiplies per 16 outputs and 4C channels, 6.25 C per
// output against the direct 9 C. Its weight gradient is the same adjoint
// (each 2x2 result scattered back to its real taps), and its input gradient
// (also every transposed conv of stride 2) is the stride-1 2x2 conv of dy with
// the rotated filters and padding 1, whose 4C output channels are the phases
// of dx, scattered back (WinoParams.gather and .scatter).
//
// Transforms (interpolation points 0, +-1, +-2, infinity for m = 4; for
// F(4x4, 2x2), 0, +-1, 2, infinity: see WinoT<4, 2>):
//   m = 2: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
//          G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1]
//   m = 4: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
//                 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//          G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
//               1/24 -1/12 1/6; 0 0 1],
//          A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//
// Cost for N16, 512 -> 512 channels at 32x32: m = 2: 16 GEMMs of 512 x 4096 x
// 512, 34.4 GFLOP against the direct 77.3; m = 4: 36 GEMMs of 512 x 1024 x 512,
// 19.3 GFLOP. The transformed operands hold (m+2)^2 / m^2 floats per output
// pixel and channel (4 at m = 2, 2.25 at m = 4), each written and read once.
// Rounding: at m = 2 the constants are 0, +-1, 1/2 and the error is that of
// the direct sum; at m = 4 about 3x the direct sum's (4e-6 relative with 512
// input channels, measured in float32 against float64 sums).
//
// Launch (block 256, grids of ceil(n/256) threads): weight and wgrad over
// R*K, input over K*P, output and dy over R*P; p is the fastest index, so
// that V, M and E rows are written and read contiguously.
//
// Entry points (the kind, F(2x2, 3x3), F(4x4, 3x3) or F(4x4, 2x2) by phases,
// is p.m with p.gather / p.scatter; weight and wgrad use p.R and p.K):
//   wino_weight_f32(WinoParams p, int dgrad, const float* w, float* U)
//   wino_input_f32(WinoParams p, const float* x, const float* in_scale, float* V)
//   wino_output_f32(WinoParams p, const float* M, const float* out_scale, const float* bias,
//                   const float* noise, const float* noise_gain, int noise_n_stride,
//                   float beta, float* y, float* z)
//   wino_dy_f32(WinoParams p, const float* dy, float* E)
//   wino_wgrad_f32(WinoParams p, const float* Z, float* dw)

struct WinoParams {
    int N;          // images
    int K, H, W;    // input channels and size
    int R, OH, OW;  // output channels and size: OH = H + 2*pad_h - (r - 1), r the filter size
    int pad_h, pad_w;
    int m;          // output tile: 2 or 4
    int TH, TW;     // tiles per image: ceil(OH/m), ceil(OW/m)
    int P;          // N * TH * TW
    // Stride-2 convs by phases (F(4x4, 2x2); zero otherwise): with
    // gather the input channel k = 4c + 2a + b, pixel (i, j) is
    // x[n, c, 2i + a - pad0, 2j + b - pad0] of a [N, K/4, H0, W0] tensor;
    // with scatter the output channel r = 4c + 2a + b, pixel (i, j) goes to
    // y[n, c, 2i + a - pad0, 2j + b - pad0] of a [N, R/4, H0, W0] tensor.
    int gather, scatter;
    int H0, W0, pad0;
};

// The 1-D transforms of each tile size, applied to a vector: in (B^T,
// m+2 -> m+2), filt (G, 3 -> m+2), out (A^T, m+2 -> m), dy (A, m -> m+2),
// wgt (G^T, m+2 -> 3).
template <int TM, int TR> struct WinoT;

template <> struct WinoT<2, 3> {
    __device__ static void in(const float* d, float* v)
    {
        v[0] = d[0] - d[2];
        v[1] = d[1] + d[2];
        v[2] = d[2] - d[1];
        v[3] = d[1] - d[3];
    }
    __device__ static void filt(const float* g, float* u)
    {
        u[0] = g[0];
        u[1] = 0.5f * (g[0] + g[1] + g[2]);
        u[2] = 0.5f * (g[0] - g[1] + g[2]);
        u[3] = g[2];
    }
    __device__ static void out(const float* m, float* y)
    {
        y[0] = m[0] + m[1] + m[2];
        y[1] = m[1] - m[2] - m[3];
    }
    __device__ static void dy(const float* e, float* v)
    {
        v[0] = e[0];
        v[1] = e[0] + e[1];
        v[2] = e[0] - e[1];
        v[3] = -e[1];
    }
    __device__ static void wgt(const float* z, float* w)
    {
        w[0] = z[0] + 0.5f * (z[1] + z[2]);
        w[1] = 0.5f * (z[1] - z[2]);
        w[2] = 0.5f * (z[1] + z[2]) + z[3];
    }
};

template <> struct WinoT<4, 3> {
    __device__ static void in(const float* d, float* v)
    {
        v[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
        v[1] = -4.0f * (d[1] + d[2]) + d[3] + d[4];
        v[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
        v[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
        v[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
        v[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
    }
    __device__ static void filt(const float* g, float* u)
    {
        u[0] = 0.25f * g[0];
        u[1] = -(g[0] + g[1] + g[2]) * (1.0f / 6.0f);
        u[2] = -(g[0] - g[1] + g[2]) * (1.0f / 6.0f);
        u[3] = g[0] * (1.0f / 24.0f) + g[1] * (1.0f / 12.0f) + g[2] * (1.0f / 6.0f);
        u[4] = g[0] * (1.0f / 24.0f) - g[1] * (1.0f / 12.0f) + g[2] * (1.0f / 6.0f);
        u[5] = g[2];
    }
    __device__ static void out(const float* m, float* y)
    {
        const float a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
        y[0] = m[0] + a + c;
        y[1] = b + 2.0f * d;
        y[2] = a + 4.0f * c;
        y[3] = b + 8.0f * d + m[5];
    }
    __device__ static void dy(const float* e, float* v)
    {
        const float a = e[0] + e[2], b = e[1] + e[3], c = e[0] + 4.0f * e[2], d = 2.0f * e[1] + 8.0f * e[3];
        v[0] = e[0];
        v[1] = a + b;
        v[2] = a - b;
        v[3] = c + d;
        v[4] = c - d;
        v[5] = e[3];
    }
    __device__ static void wgt(const float* z, float* w)
    {
        const float a = z[1] + z[2], b = z[1] - z[2], c = z[3] + z[4], d = z[3] - z[4];
        w[0] = 0.25f * z[0] - a * (1.0f / 6.0f) + c * (1.0f / 24.0f);
        w[1] = -b * (1.0f / 6.0f) + d * (1.0f / 12.0f);
        w[2] = -a * (1.0f / 6.0f) + c * (1.0f / 6.0f) + z[5];
    }
};

// F(4x4, 2x2), points 0, 1, -1, 2 and infinity: the stride-2 convs by
// phases. B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1],
// G = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1],
// A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1].
template <> struct WinoT<4, 2> {
    __device__ static void in(const float* d, float* v)
    {
        v[0] = 2.0f * (d[0] - d[2]) - d[1] + d[3];
        v[1] = -2.0f * d[1] - d[2] + d[3];
        v[2] = 2.0f * d[1] - 3.0f * d[2] + d[3];
        v[3] = d[3] - d[1];
        v[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
    }
    __device__ static void filt(const float* g, float* u)
    {
        u[0] = 0.5f * g[0];
        u[1] = -0.5f * (g[0] + g[1]);
        u[2] = (g[1] - g[0]) * (1.0f / 6.0f);
        u[3] = g[0] * (1.0f / 6.0f) + g[1] * (1.0f / 3.0f);
        u[4] = g[1];
    }
    __device__ static void out(const float* m, float* y)
    {
        const float a = m[1] + m[2], b = m[1] - m[2];
        y[0] = m[0] + a + m[3];
        y[1] = b + 2.0f * m[3];
        y[2] = a + 4.0f * m[3];
        y[3] = b + 8.0f * m[3] + m[4];
    }
    __device__ static void dy(const float* e, float* v)
    {
        v[0] = e[0];
        v[1] = e[0] + e[1] + e[2] + e[3];
        v[2] = e[0] - e[1] + e[2] - e[3];
        v[3] = e[0] + 2.0f * e[1] + 4.0f * e[2] + 8.0f * e[3];
        v[4] = e[3];
    }
    __device__ static void wgt(const float* z, float* w)
    {
        w[0] = 0.5f * (z[0] - z[1]) + (z[3] - z[2]) * (1.0f / 6.0f);
        w[1] = -0.5f * z[1] + z[2] * (1.0f / 6.0f) + z[3] * (1.0f / 3.0f) + z[4];
    }
};

// Each 1-D transform as a type, so that wino_2d inlines it.
template <int TM, int TR> struct WinoIn { __device__ static void f(const float* a, float* b) { WinoT<TM, TR>::in(a, b); } };
template <int TM, int TR> struct WinoFilt { __device__ static void f(const float* a, float* b) { WinoT<TM, TR>::filt(a, b); } };
template <int TM, int TR> struct WinoOut { __device__ static void f(const float* a, float* b) { WinoT<TM, TR>::out(a, b); } };
template <int TM, int TR> struct WinoDy { __device__ static void f(const float* a, float* b) { WinoT<TM, TR>::dy(a, b); } };
template <int TM, int TR> struct WinoWgt { __device__ static void f(const float* a, float* b) { WinoT<TM, TR>::wgt(a, b); } };

// wino_2d: y = T x T^T for the 1-D transform T = Op (IN -> OUT per axis).
template <class Op, int IN, int OUT>
__device__ __forceinline__ void wino_2d(const float (&x)[IN][IN], float (&y)[OUT][OUT])
{
    float t[OUT][IN];
#pragma unroll
    for (int j = 0; j < IN; j++) {
        float col[IN], r[OUT];
#pragma unroll
        for (int i = 0; i < IN; i++) col[i] = x[i][j];
        Op::f(col, r);
#pragma unroll
        for (int i = 0; i < OUT; i++) t[i][j] = r[i];
    }
#pragma unroll
    for (int i = 0; i < OUT; i++) Op::f(t[i], y[i]);
}

// wino_item: thread e's channel ch (of `channels`) and tile (image n, tile
// row ty, tile column tx) in the [channel][tile] layout of V, M and E; false
// past the end.
__device__ __forceinline__ bool wino_item(const WinoParams& p, int channels, long long& e, int& ch, int& n, int& ty,
                                          int& tx)
{
    e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)channels * p.P) return false;
    ch = (int)(e / p.P);
    const int q = (int)(e - (long long)ch * p.P), tiles = p.TH * p.TW;
    n = q / tiles;
    const int tt = q - n * tiles;
    ty = tt / p.TW;
    tx = tt - ty * p.TW;
    return true;
}

// wino_store and wino_load move one item's TA x TA transform values: value
// (i, j) at buf[(i*TA + j) * plane + e], one plane per transform point.
template <int TA>
__device__ __forceinline__ void wino_store(const float (&v)[TA][TA], float* __restrict__ buf, long long plane, long long e)
{
#pragma unroll
    for (int i = 0; i < TA; i++)
#pragma unroll
        for (int j = 0; j < TA; j++) buf[(i * TA + j) * plane + e] = v[i][j];
}

template <int TA>
__device__ __forceinline__ void wino_load(float (&v)[TA][TA], const float* __restrict__ buf, long long plane, long long e)
{
#pragma unroll
    for (int i = 0; i < TA; i++)
#pragma unroll
        for (int j = 0; j < TA; j++) v[i][j] = buf[(i * TA + j) * plane + e];
}

// wino_weight: U = G g G^T for the filter g from input channel k to output
// channel r. TR = 3: g is w[r, k] (dgrad: w[k, r] rotated by 180 degrees).
// TR = 2 (phases): k (or r, with dgrad) is 4c + 2a + b and g[u][v] is the
// tap (2u + a, 2v + b) of w[o, c] (zero past the 3x3 kernel), rotated with
// dgrad, o being the other index.
template <int TM, int TR>
__device__ __forceinline__ void wino_weight(int R, int K, int dgrad, const float* __restrict__ w, float* __restrict__ U)
{
    constexpr int TA = TM + TR - 1;
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)R * K) return;
    const int r = (int)(e / K), k = (int)(e - (long long)r * K);
    float g[TR][TR];
    if (TR == 3) {
        const float* src = dgrad ? w + ((long long)k * R + r) * 9 : w + e * 9;
#pragma unroll
        for (int a = 0; a < TR; a++)
#pragma unroll
            for (int b = 0; b < TR; b++) g[a][b] = dgrad ? src[(2 - a) * 3 + (2 - b)] : src[a * 3 + b];
    } else {
        const int ph = dgrad ? r : k, o = dgrad ? k : r, C0 = (dgrad ? R : K) / 4;
        const int c = ph >> 2, pa = (ph >> 1) & 1, pb = ph & 1;
        const float* src = w + ((long long)o * C0 + c) * 9;
#pragma unroll
        for (int u = 0; u < TR; u++)
#pragma unroll
            for (int v = 0; v < TR; v++) {
                const int uu = dgrad ? TR - 1 - u : u, vv = dgrad ? TR - 1 - v : v;
                const int kh = 2 * uu + pa, kw = 2 * vv + pb;
                g[u][v] = (kh < 3 && kw < 3) ? src[kh * 3 + kw] : 0.0f;
            }
    }
    float u[TA][TA];
    wino_2d<WinoFilt<TM, TR>>(g, u);
    wino_store(u, U, (long long)R * K, e);
}

// wino_pixel: the input of channel k of image n at (iy, ix), zero outside;
// with gather, a pixel of a phase of the real input (see WinoParams).
__device__ __forceinline__ float wino_pixel(const WinoParams& p, const float* __restrict__ x, int n, int k, int iy, int ix)
{
    if ((unsigned)iy >= (unsigned)p.H || (unsigned)ix >= (unsigned)p.W) return 0.0f;
    if (!p.gather) return x[(((long long)n * p.K + k) * p.H + iy) * p.W + ix];
    const int c = k >> 2, hy = 2 * iy + ((k >> 1) & 1) - p.pad0, hx = 2 * ix + (k & 1) - p.pad0;
    if ((unsigned)hy >= (unsigned)p.H0 || (unsigned)hx >= (unsigned)p.W0) return 0.0f;
    return x[(((long long)n * (p.K >> 2) + c) * p.H0 + hy) * p.W0 + hx];
}

template <int TM, int TR>
__device__ __forceinline__ void wino_input(const WinoParams& p, const float* __restrict__ x,
                                           const float* __restrict__ in_scale, float* __restrict__ V)
{
    constexpr int TA = TM + TR - 1;
    long long e;
    int k, n, ty, tx;
    if (!wino_item(p, p.K, e, k, n, ty, tx)) return;
    const int y0 = TM * ty - p.pad_h, x0 = TM * tx - p.pad_w;
    const float s = in_scale ? in_scale[n * p.K + k] : 1.0f;
    float d[TA][TA];
#pragma unroll
    for (int i = 0; i < TA; i++)
#pragma unroll
        for (int j = 0; j < TA; j++) d[i][j] = s * wino_pixel(p, x, n, k, y0 + i, x0 + j);
    float v[TA][TA];
    wino_2d<WinoIn<TM, TR>>(d, v);
    wino_store(v, V, (long long)p.K * p.P, e);
}

template <int TM, int TR>
__device__ __forceinline__ void wino_output(const WinoParams& p, const float* __restrict__ M,
                                            const float* __restrict__ out_scale, const float* __restrict__ bias,
                                            const float* __restrict__ noise, const float* __restrict__ noise_gain,
                                            int noise_n_stride, float beta, float* __restrict__ y, float* __restrict__ z)
{
    constexpr int TA = TM + TR - 1;
    long long e;
    int r, n, ty, tx;
    if (!wino_item(p, p.R, e, r, n, ty, tx)) return;
    float m[TA][TA];
    wino_load(m, M, (long long)p.R * p.P, e);
    float o[TM][TM];
    wino_2d<WinoOut<TM, TR>>(m, o);
    const float scale = out_scale ? out_scale[n * p.R + r] : 1.0f;
    const float b = bias ? bias[r] : 0.0f;
    const float gain = noise ? (noise_gain ? *noise_gain : 1.0f) : 0.0f;
    // Where pixel (oh, ow) goes: y[n, r, oh, ow], or with scatter the phase
    // (a, b) of y[n, c] at (2 oh + a - pad0, 2 ow + b - pad0).
    const int c = r >> 2, pa = (r >> 1) & 1, pb = r & 1;
    const long long ybase = p.scatter ? ((long long)n * (p.R >> 2) + c) * p.H0 * p.W0 : ((long long)n * p.R + r) * p.OH * p.OW;
    // F(4x4): a tile row is 16 contiguous bytes of y (and z, noise), moved
    // as one float4 where aligned and inside the row: one store instruction
    // a row instead of four, each of which covered 32 lanes' 4-byte pieces
    // 16 bytes apart (a quarter of every sector it touched).
    const bool vec = TM == 4 && !p.scatter && (p.OW & 3) == 0 && TM * tx + 3 < p.OW &&
                     ((unsigned long long)y & 15) == 0 && ((unsigned long long)z & 15) == 0 &&
                     ((unsigned long long)noise & 15) == 0 && (noise_n_stride & 3) == 0;
    if (vec) {
#pragma unroll
        for (int a = 0; a < TM; a++) {
            const int oh = TM * ty + a;
            if (oh >= p.OH) break;
            float v[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
            for (int cc = 0; cc < TM && cc < 4; cc++) v[cc] = o[a][cc];
            const long long i = ybase + oh * p.OW + TM * tx;
            if (z) *reinterpret_cast<float4*>(z + i) = make_float4(v[0], v[1], v[2], v[3]);
            float out[4];
#pragma unroll
            for (int cc = 0; cc < 4; cc++) out[cc] = v[cc] * scale + b;
            if (noise) {
                const float4 nz = *reinterpret_cast<const float4*>(noise + ((long long)n * noise_n_stride + oh * p.OW + TM * tx));
                out[0] = fmaf(nz.x, gain, out[0]), out[1] = fmaf(nz.y, gain, out[1]);
                out[2] = fmaf(nz.z, gain, out[2]), out[3] = fmaf(nz.w, gain, out[3]);
            }
            if (beta != 0.0f) {
                const float4 yo = *reinterpret_cast<const float4*>(y + i);
                out[0] = fmaf(beta, yo.x, out[0]), out[1] = fmaf(beta, yo.y, out[1]);
                out[2] = fmaf(beta, yo.z, out[2]), out[3] = fmaf(beta, yo.w, out[3]);
            }
            *reinterpret_cast<float4*>(y + i) = make_float4(out[0], out[1], out[2], out[3]);
        }
        return;
    }
#pragma unroll
    for (int a = 0; a < TM; a++) {
        const int oh = TM * ty + a;
        if (oh >= p.OH) break;
#pragma unroll
        for (int cc = 0; cc < TM; cc++) {
            const int ow = TM * tx + cc;
            if (ow >= p.OW) break;
            long long i = ybase + oh * p.OW + ow;
            if (p.scatter) {
                const int hy = 2 * oh + pa - p.pad0, hx = 2 * ow + pb - p.pad0;
                if ((unsigned)hy >= (unsigned)p.H0 || (unsigned)hx >= (unsigned)p.W0) continue;
                i = ybase + hy * p.W0 + hx;
            }
            const float v = o[a][cc];
            if (z) z[i] = v;
            float out = v * scale + b;
            if (noise) out = fmaf(noise[(long long)n * noise_n_stride + oh * p.OW + ow], gain, out);
            if (beta != 0.0f) out = fmaf(beta, y[i], out);
            y[i] = out;
        }
    }
}

template <int TM, int TR>
__device__ __forceinline__ void wino_dy(const WinoParams& p, const float* __restrict__ dy, float* __restrict__ E)
{
    constexpr int TA = TM + TR - 1;
    long long e;
    int r, n, ty, tx;
    if (!wino_item(p, p.R, e, r, n, ty, tx)) return;
    const float* dp = dy + ((long long)n * p.R + r) * p.OH * p.OW;
    float d[TM][TM];
    // F(4x4): a tile row of dy as one float4 where aligned and inside the row
    // (as wino_output stores them).
    const bool vec = TM == 4 && (p.OW & 3) == 0 && TM * tx + 3 < p.OW && ((unsigned long long)dp & 15) == 0;
#pragma unroll
    for (int a = 0; a < TM; a++) {
        const int oh = TM * ty + a;
        if (vec) {
            const float4 v = oh < p.OH ? *reinterpret_cast<const float4*>(dp + (oh * p.OW + TM * tx)) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            const float w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int b = 0; b < TM && b < 4; b++) d[a][b] = w[b];
            continue;
        }
#pragma unroll
        for (int b = 0; b < TM; b++) {
            const int ow = TM * tx + b;
            d[a][b] = (oh < p.OH && ow < p.OW) ? dp[oh * p.OW + ow] : 0.0f;
        }
    }
    float v[TA][TA];
    wino_2d<WinoDy<TM, TR>>(d, v);
    wino_store(v, E, (long long)p.R * p.P, e);
}

// wino_wgrad: dw[r, k] = G^T Z G; with TR = 2 (phases), k = 4c + 2a + b and
// the 2x2 result's tap (u, v) is the real tap (2u + a, 2v + b) of dw[r, c]
// (each real tap belongs to exactly one phase; taps past 3x3 are dropped).
template <int TM, int TR>
__device__ __forceinline__ void wino_wgrad(int R, int K, const float* __restrict__ Z, float* __restrict__ dw)
{
    constexpr int TA = TM + TR - 1;
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)R * K) return;
    float z[TA][TA];
    wino_load(z, Z, (long long)R * K, e);
    float g[TR][TR];
    wino_2d<WinoWgt<TM, TR>>(z, g);
    if (TR == 3) {
        float* out = dw + e * 9;
#pragma unroll
        for (int a = 0; a < TR; a++)
#pragma unroll
            for (int b = 0; b < TR; b++) out[a * 3 + b] = g[a][b];
        return;
    }
    const int r = (int)(e / K), k = (int)(e - (long long)r * K);
    const int c = k >> 2, pa = (k >> 1) & 1, pb = k & 1;
    float* out = dw + ((long long)r * (K >> 2) + c) * 9;
#pragma unroll
    for (int u = 0; u < TR; u++)
#pragma unroll
        for (int v = 0; v < TR; v++) {
            const int kh = 2 * u + pa, kw = 2 * v + pb;
            if (kh < 3 && kw < 3) out[kh * 3 + kw] = g[u][v];
        }
}

// The entry points: one per transform, for the three kinds, dispatched on
// the parameters to the compile-time instantiations (a uniform branch).
#define WINO_KIND(call, args)                                                                                         \
    if (p.gather || p.scatter) call<4, 2> args;                                                                      \
    else if (p.m == 4) call<4, 3> args;                                                                              \
    else call<2, 3> args

extern "C" __global__ void __launch_bounds__(256)
wino_weight_f32(WinoParams p, int dgrad, const float* __restrict__ w, float* __restrict__ U)
{
    WINO_KIND(wino_weight, (p.R, p.K, dgrad, w, U));
}

extern "C" __global__ void __launch_bounds__(256)
wino_input_f32(WinoParams p, const float* __restrict__ x, const float* __restrict__ in_scale, float* __restrict__ V)
{
    WINO_KIND(wino_input, (p, x, in_scale, V));
}

extern "C" __global__ void __launch_bounds__(256)
wino_output_f32(WinoParams p, const float* __restrict__ M, const float* __restrict__ out_scale,
                const float* __restrict__ bias, const float* __restrict__ noise, const float* __restrict__ noise_gain,
                int noise_n_stride, float beta, float* __restrict__ y, float* __restrict__ z)
{
    WINO_KIND(wino_output, (p, M, out_scale, bias, noise, noise_gain, noise_n_stride, beta, y, z));
}

extern "C" __global__ void __launch_bounds__(256)
wino_dy_f32(WinoParams p, const float* __restrict__ dy, float* __restrict__ E)
{
    WINO_KIND(wino_dy, (p, dy, E));
}

extern "C" __global__ void __launch_bounds__(256)
wino_wgrad_f32(WinoParams p, const float* __restrict__ Z, float* __restrict__ dw)
{
    WINO_KIND(wino_wgrad, (p.R, p.K, Z, dw));
}
