// winograd.cu: 3x3 stride-1 convolution by Winograd's minimal filtering
// F(2x2, 3x3): each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A with d
// the 4x4 input patch and g the 3x3 filter, 16 multiplies where direct
// convolution takes 36. Summed over input channels, the 16 elementwise
// products become 16 independent GEMMs, run by sgemm.cu:
//   M[xi] (R x P) = U[xi] (R x K) V[xi] (K x P),   xi < 16,
// with K input channels, R output channels and P = N * TH * TW tiles
// (TH = ceil(OH/2), TW = ceil(OW/2)). Three kernels around the GEMMs:
//   wino_weight_f32  U[xi][r][k] = (G g G^T)[xi] for g the filter from input
//                    channel k to output channel r. dgrad = 0: w [R, K, 3, 3]
//                    (a forward conv); dgrad = 1: w [K, R, 3, 3] read
//                    transposed and rotated by 180 degrees, the filter of the
//                    input gradient of that conv as a conv of dy.
//   wino_input_f32   V[xi][k][p] = (B^T d B)[xi], d the patch of input image
//                    n, channel k at rows 2*ty - pad_h + 0..3 (zero outside),
//                    times in_scale[n, k] when given (modulation: linear, so
//                    scaling the input before the transform is exact).
//   wino_output_f32  the 2x2 tile A^T M A, then the forward's epilogues:
//                    z = tile (kept for the demodulation's gradient) when z is
//                    not null; y = tile * out_scale[n, r] + bias[r] +
//                    noise[n * noise_n_stride + oh * OW + ow] * noise_gain[0]
//                    + beta * y (each term only when its pointer is set;
//                    beta 0 does not read y).
// The input gradient of a stride-1 3x3 conv with padding ph is the conv of dy
// with the rotated, transposed filter and padding 2 - ph, so one path serves
// the forward, the modulated forward and the input gradient.
//
// The weight gradient is the forward's adjoint: with Y_t = A^T (U . V_t) A,
//   dW = G^T [sum_t (A dY_t A^T) . V_t] G,
// 16 GEMMs Z[xi] (R x K) = E[xi] (R x P) V[xi]^T (P x K) over the tiles t:
//   wino_dy_f32     E[xi][r][p] = (A e A^T)[xi], e the 2x2 tile of dy (zero
//                   past the output's edge), p as for the input transform.
//   wino_wgrad_f32  dw[r, k] = G^T Z[.][r][k] G (3x3), written (not added).
//
// Cost for N16, 512 -> 512 channels at 32x32: 16 GEMMs of 512 x 4096 x 512,
// 34.4 GFLOP against the direct 77.3; the transforms move V and M (16 floats
// per tile and channel each) through memory twice: ~0.54 GB, 0.15 ms at
// 3.7 TB/s. Rounding: the transforms' constants are 0, +-1 and 1/2, so the
// error stays within a few ulps of the direct sum's.
//
// Launch (block 256, grids of ceil(n/256) threads): wino_weight_f32 and
// wino_wgrad_f32 over R*K, wino_input_f32 over K*P, wino_output_f32 and
// wino_dy_f32 over R*P; p is the fastest index, so that V, M and E rows are
// written and read contiguously.
//
// Entry points:
//   wino_weight_f32(int R, int K, int dgrad, const float* w, float* U)
//   wino_input_f32(WinoParams p, const float* x, const float* in_scale, float* V)
//   wino_output_f32(WinoParams p, const float* M, const float* out_scale, const float* bias,
//                   const float* noise, const float* noise_gain, int noise_n_stride,
//                   float beta, float* y, float* z)
//   wino_dy_f32(WinoParams p, const float* dy, float* E)
//   wino_wgrad_f32(int R, int K, const float* Z, float* dw)

struct WinoParams {
    int N;          // images
    int K, H, W;    // input channels and size
    int R, OH, OW;  // output channels and size: OH = H + 2*pad_h - 2
    int pad_h, pad_w;
    int TH, TW;     // tiles per image: ceil(OH/2), ceil(OW/2)
    int P;          // N * TH * TW
};

extern "C" __global__ void __launch_bounds__(256)
wino_weight_f32(int R, int K, int dgrad, const float* __restrict__ w, float* __restrict__ U)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)R * K) return;
    const int r = (int)(e / K), k = (int)(e - (long long)r * K);
    float g[3][3];
    const float* src = dgrad ? w + ((long long)k * R + r) * 9 : w + e * 9;
#pragma unroll
    for (int a = 0; a < 3; a++)
#pragma unroll
        for (int b = 0; b < 3; b++) g[a][b] = dgrad ? src[(2 - a) * 3 + (2 - b)] : src[a * 3 + b];
    // t = G g (4x3), then t G^T (4x4).
    float t[4][3];
#pragma unroll
    for (int b = 0; b < 3; b++) {
        t[0][b] = g[0][b];
        t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
        t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
        t[3][b] = g[2][b];
    }
    const long long plane = (long long)R * K;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
#pragma unroll
        for (int j = 0; j < 4; j++) U[(i * 4 + j) * plane + e] = u[j];
    }
}

extern "C" __global__ void __launch_bounds__(256)
wino_input_f32(WinoParams p, const float* __restrict__ x, const float* __restrict__ in_scale, float* __restrict__ V)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)p.K * p.P) return;
    const int k = (int)(e / p.P), q = (int)(e - (long long)k * p.P);
    const int tiles = p.TH * p.TW, n = q / tiles, tt = q - n * tiles;
    const int ty = tt / p.TW, tx = tt - ty * p.TW;
    const int y0 = 2 * ty - p.pad_h, x0 = 2 * tx - p.pad_w;
    const float* xp = x + ((long long)n * p.K + k) * p.H * p.W;
    const float s = in_scale ? in_scale[n * p.K + k] : 1.0f;
    float d[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int iy = y0 + i;
        const bool rok = (unsigned)iy < (unsigned)p.H;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int ix = x0 + j;
            d[i][j] = (rok && (unsigned)ix < (unsigned)p.W) ? s * xp[iy * p.W + ix] : 0.0f;
        }
    }
    // t = B^T d, then t B.
    float t[4][4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        t[0][j] = d[0][j] - d[2][j];
        t[1][j] = d[1][j] + d[2][j];
        t[2][j] = d[2][j] - d[1][j];
        t[3][j] = d[1][j] - d[3][j];
    }
    const long long plane = (long long)p.K * p.P;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const float v[4] = {t[i][0] - t[i][2], t[i][1] + t[i][2], t[i][2] - t[i][1], t[i][1] - t[i][3]};
#pragma unroll
        for (int j = 0; j < 4; j++) V[(i * 4 + j) * plane + e] = v[j];
    }
}

extern "C" __global__ void __launch_bounds__(256)
wino_output_f32(WinoParams p, const float* __restrict__ M, const float* __restrict__ out_scale,
                const float* __restrict__ bias, const float* __restrict__ noise, const float* __restrict__ noise_gain,
                int noise_n_stride, float beta, float* __restrict__ y, float* __restrict__ z)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)p.R * p.P) return;
    const int r = (int)(e / p.P), q = (int)(e - (long long)r * p.P);
    const int tiles = p.TH * p.TW, n = q / tiles, tt = q - n * tiles;
    const int ty = tt / p.TW, tx = tt - ty * p.TW;
    const long long plane = (long long)p.R * p.P;
    float m[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) m[i][j] = M[(i * 4 + j) * plane + e];
    // t = A^T m (2x4), then t A (2x2).
    float t[2][4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        t[0][j] = m[0][j] + m[1][j] + m[2][j];
        t[1][j] = m[1][j] - m[2][j] - m[3][j];
    }
    const float scale = out_scale ? out_scale[n * p.R + r] : 1.0f;
    const float b = bias ? bias[r] : 0.0f;
    const float gain = noise ? (noise_gain ? *noise_gain : 1.0f) : 0.0f;
    const long long ybase = ((long long)n * p.R + r) * p.OH * p.OW;
#pragma unroll
    for (int a = 0; a < 2; a++) {
        const int oh = 2 * ty + a;
        if (oh >= p.OH) break;
        const float o2[2] = {t[a][0] + t[a][1] + t[a][2], t[a][1] - t[a][2] - t[a][3]};
#pragma unroll
        for (int c = 0; c < 2; c++) {
            const int ow = 2 * tx + c;
            if (ow >= p.OW) break;
            const long long i = ybase + oh * p.OW + ow;
            const float v = o2[c];
            if (z) z[i] = v;
            float out = v * scale + b;
            if (noise) out = fmaf(noise[(long long)n * noise_n_stride + oh * p.OW + ow], gain, out);
            if (beta != 0.0f) out = fmaf(beta, y[i], out);
            y[i] = out;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
wino_dy_f32(WinoParams p, const float* __restrict__ dy, float* __restrict__ E)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)p.R * p.P) return;
    const int r = (int)(e / p.P), q = (int)(e - (long long)r * p.P);
    const int tiles = p.TH * p.TW, n = q / tiles, tt = q - n * tiles;
    const int ty = tt / p.TW, tx = tt - ty * p.TW;
    const float* dp = dy + ((long long)n * p.R + r) * p.OH * p.OW;
    float d[2][2];
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int b = 0; b < 2; b++) {
            const int oh = 2 * ty + a, ow = 2 * tx + b;
            d[a][b] = (oh < p.OH && ow < p.OW) ? dp[oh * p.OW + ow] : 0.0f;
        }
    // A = [1 0; 1 1; 1 -1; 0 -1]: t = A d (4x2), then t A^T (4x4).
    float t[4][2];
#pragma unroll
    for (int b = 0; b < 2; b++) {
        t[0][b] = d[0][b];
        t[1][b] = d[0][b] + d[1][b];
        t[2][b] = d[0][b] - d[1][b];
        t[3][b] = -d[1][b];
    }
    const long long plane = (long long)p.R * p.P;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const float v[4] = {t[i][0], t[i][0] + t[i][1], t[i][0] - t[i][1], -t[i][1]};
#pragma unroll
        for (int j = 0; j < 4; j++) E[(i * 4 + j) * plane + e] = v[j];
    }
}

extern "C" __global__ void __launch_bounds__(256)
wino_wgrad_f32(int R, int K, const float* __restrict__ Z, float* __restrict__ dw)
{
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= (long long)R * K) return;
    const long long plane = (long long)R * K;
    float z[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) z[i][j] = Z[(i * 4 + j) * plane + e];
    // G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]: t = G^T z (3x4), then t G (3x3).
    float t[3][4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
        t[0][j] = z[0][j] + 0.5f * (z[1][j] + z[2][j]);
        t[1][j] = 0.5f * (z[1][j] - z[2][j]);
        t[2][j] = 0.5f * (z[1][j] + z[2][j]) + z[3][j];
    }
    float* out = dw + e * 9;
#pragma unroll
    for (int i = 0; i < 3; i++) {
        out[i * 3 + 0] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
        out[i * 3 + 1] = 0.5f * (t[i][1] - t[i][2]);
        out[i * 3 + 2] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
    }
}
