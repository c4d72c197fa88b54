// variants.cu: a standalone CUDA C++ harness that times candidate versions of
// the memory-bound StyleGAN2 kernels, of the FP32 GEMM main loop
// (gemm_variants.cuh) and the engine's two strided input gradients (all taps,
// and by phases) against the engine's own (included from
// kernels/cuda/kernels) on the GPU machine, where nvcc exists and Go does not:
//   nvcc -O3 -arch=sm_90 -o /tmp/variants bench/cuda/variants.cu && /tmp/variants
// old_*.cu are earlier versions of the engine's files with their entry points
// renamed old_*: `bench/cuda/make-old.sh 36fbf5f ac572f0` writes them (bias_act
// as of the first, upfirdn2d as of the second; git-ignored; carry them to the
// GPU machine). Every variant's output is compared with the old version's
// output
// (poisoned first), and each time is the median of 25 CUDA-event timings after
// 3 warm-ups; bandwidth counts each input read once and the output written once.
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../kernels/cuda/kernels/bias_act.cu"
#include "../../kernels/cuda/kernels/upfirdn2d.cu"
#include "../../kernels/cuda/kernels/peak.cu"
#include "uf_variants.cuh"
#include "../../kernels/cuda/kernels/sgemm.cu"
#include "gemm_variants.cuh"
#include "../../kernels/cuda/kernels/conv2d.cu"
namespace oldv {
#include "old_bias_act.cu"
#include "old_upfirdn2d.cu"
}
#ifndef OLD_UPFIRDN_REV // make-old.sh defines it in old_upfirdn2d.cu
#define OLD_UPFIRDN_REV "old"
#endif

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e)); exit(1); } } while (0)

__global__ void fill_rand(float* p, long long n, unsigned seed) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed; h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
        p[i] = ((h & 0xffffff) / 16777216.0f - 0.5f) * 4.0f;
    }
}

// ---- bias_act variants: lrelu, gain sqrt2, clamp 256; x [planes, hw] with one bias per plane % C.
template <int G> __device__ __forceinline__ float lrelu_one(float x, float b, float dy) {
    const float gain = 1.41421356f, alpha = 0.2f, clamp = 256.f;
    float s = x + b;
    if (G == 0) {
        float y = (s > 0.f ? s : s * alpha) * gain;
        return (y > -clamp && y < clamp) ? y : (y >= 0.f ? clamp : -clamp);
    } else { // grad = 3: from the input
        float v = (s > 0.f ? s : s * alpha) * gain;
        if (!(v >= -clamp && v <= clamp)) return 0.f;
        return dy * gain * (s > 0.f ? 1.f : alpha);
    }
}
// plane layout: grid (ceil(hw4 / (256*U)), planes); bias uniform per block, no division.
template <int G, int U> __global__ void __launch_bounds__(256) ba_plane(int hw4, int C, const float* __restrict__ x,
    const float* __restrict__ b, const float* __restrict__ dy, float* __restrict__ y) {
    const int plane = blockIdx.y;
    const float bv = b[plane % C];
    const long long base = (long long)plane * hw4;
    const float4* xp = reinterpret_cast<const float4*>(x) + base;
    const float4* dp = reinterpret_cast<const float4*>(dy) + base;
    float4* yp = reinterpret_cast<float4*>(y) + base;
    const int i0 = blockIdx.x * 256 * U + threadIdx.x;
    float4 xv[U], dv[U];
#pragma unroll
    for (int u = 0; u < U; u++) {
        int i = i0 + u * 256;
        if (i < hw4) { xv[u] = xp[i]; if (G) dv[u] = dp[i]; }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
        int i = i0 + u * 256;
        if (i < hw4) {
            float4 o;
            o.x = lrelu_one<G>(xv[u].x, bv, G ? dv[u].x : 1.f);
            o.y = lrelu_one<G>(xv[u].y, bv, G ? dv[u].y : 1.f);
            o.z = lrelu_one<G>(xv[u].z, bv, G ? dv[u].z : 1.f);
            o.w = lrelu_one<G>(xv[u].w, bv, G ? dv[u].w : 1.f);
            yp[i] = o;
        }
    }
}
// flat grid-stride, specialised, U float4 per pass, division for the bias.
template <int G, int U> __global__ void __launch_bounds__(256) ba_flat(int n4, int step4, int C, const float* __restrict__ x,
    const float* __restrict__ b, const float* __restrict__ dy, float* __restrict__ y) {
    const int stride = gridDim.x * 256;
    for (int i0 = blockIdx.x * 256 + threadIdx.x; i0 < n4; i0 += U * stride) {
        float4 xv[U], dv[U];
#pragma unroll
        for (int u = 0; u < U; u++) { int i = i0 + u * stride; if (i < n4) { xv[u] = reinterpret_cast<const float4*>(x)[i]; if (G) dv[u] = reinterpret_cast<const float4*>(dy)[i]; } }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int i = i0 + u * stride;
            if (i < n4) {
                float bv = b[(i / step4) % C];
                float4 o;
                o.x = lrelu_one<G>(xv[u].x, bv, G ? dv[u].x : 1.f);
                o.y = lrelu_one<G>(xv[u].y, bv, G ? dv[u].y : 1.f);
                o.z = lrelu_one<G>(xv[u].z, bv, G ? dv[u].z : 1.f);
                o.w = lrelu_one<G>(xv[u].w, bv, G ? dv[u].w : 1.f);
                reinterpret_cast<float4*>(y)[i] = o;
            }
        }
    }
}
template <int U> __global__ void __launch_bounds__(256) copy_u(long long n4, const float4* __restrict__ x, float4* __restrict__ y) {
    long long i0 = (long long)blockIdx.x * 256 * U + threadIdx.x;
    float4 v[U];
#pragma unroll
    for (int u = 0; u < U; u++) if (i0 + u * 256 < n4) v[u] = x[i0 + u * 256];
#pragma unroll
    for (int u = 0; u < U; u++) if (i0 + u * 256 < n4) y[i0 + u * 256] = v[u];
}

// ---- harness
static float median_ms(std::vector<float> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; }
template <class F> float time_it(F f) {
    cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++) f();
    CK(cudaDeviceSynchronize());
    std::vector<float> ms;
    for (int i = 0; i < 25; i++) { CK(cudaEventRecord(a)); f(); CK(cudaEventRecord(b)); CK(cudaEventSynchronize(b)); float t; CK(cudaEventElapsedTime(&t, a, b)); ms.push_back(t); }
    CK(cudaGetLastError());
    return median_ms(ms);
}
static double maxdiff(const float* a, const float* b, long long n) {
    std::vector<float> ha(n), hb(n);
    CK(cudaMemcpy(ha.data(), a, n * 4, cudaMemcpyDeviceToHost)); CK(cudaMemcpy(hb.data(), b, n * 4, cudaMemcpyDeviceToHost));
    double m = 0; for (long long i = 0; i < n; i++) { double d = fabs((double)ha[i] - hb[i]); if (!(d <= m)) m = d; } return m;
}
static double copyBW = 0;
static void row(const char* name, float ms, double bytes, double err) {
    double gbs = bytes / (ms * 1e-3) / 1e9;
    printf("%-34s %8.4f ms %7.0f GB/s %5.0f%% of copy  maxdiff %.2g\n", name, ms, gbs, copyBW > 0 ? 100 * gbs / copyBW : 0, err);
}

int main() {
    int sms; CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0));
    printf("variants on %s, %d SMs\n", prop.name, sms);
    const int N = 16, C = 512, HW = 64 * 64;
    const long long n = (long long)N * C * HW, n4 = n / 4;
    float *x, *dy, *y, *yref, *b;
    CK(cudaMalloc(&x, n * 4)); CK(cudaMalloc(&dy, n * 4)); CK(cudaMalloc(&y, n * 4)); CK(cudaMalloc(&yref, n * 4)); CK(cudaMalloc(&b, C * 4));
    fill_rand<<<1024, 256>>>(x, n, 1); fill_rand<<<1024, 256>>>(dy, n, 2); fill_rand<<<4, 256>>>(b, C, 3);
    CK(cudaDeviceSynchronize());
    auto poison = [&]() { CK(cudaMemset(y, 0xff, n * 4)); };
    int gs = std::min<long long>((n4 + 255) / 256, 32LL * sms);

    // copies
    float t = time_it([&] { peak_copy_f32<<<gs, 256>>>(n4, (const float4*)x, (float4*)y); });
    copyBW = 8.0 * n / (t * 1e-3) / 1e9;
    row("copy (engine peak_copy)", t, 8.0 * n, 0);
    row("copy U=4 one pass", time_it([&] { copy_u<4><<<(n4 + 1023) / 1024, 256>>>(n4, (const float4*)x, (float4*)y); }), 8.0 * n, 0);
    row("copy U=8 one pass", time_it([&] { copy_u<8><<<(n4 + 2047) / 2048, 256>>>(n4, (const float4*)x, (float4*)y); }), 8.0 * n, 0);

    for (int G = 0; G < 2; G++) {
        oldv::BiasActParams op{3, G ? 3 : 0, 0.2f, 1.41421356f, 256.f, (int)n, C, HW};
        BiasActParams np{3, G ? 3 : 0, 0.2f, 1.41421356f, 256.f, (int)n, C, HW};
        const float* xin = G ? dy : x; const float* xr = G ? x : nullptr;
        double bytes = (G ? 12.0 : 8.0) * n;
        printf("-- bias_act %s\n", G ? "grad (dy, x -> dx)" : "forward");
        float t0 = time_it([&] { oldv::old_bias_act_f32<<<gs, 256>>>(op, xin, b, xr, nullptr, nullptr, yref); });
        row("engine v1 (one float4/pass)", t0, bytes, 0);
        poison(); float t1 = time_it([&] { bias_act_f32<<<gs, 256>>>(np, xin, b, xr, nullptr, nullptr, y); });
        row("engine current (specialised)", t1, bytes, maxdiff(y, yref, n));
        const float* X = G ? x : x; const float* D = G ? dy : nullptr;
#define FLAT(U) do { poison(); float tt = time_it([&] { if (G) ba_flat<1, U><<<gs, 256>>>((int)n4, HW / 4, C, X, b, D, y); else ba_flat<0, U><<<gs, 256>>>((int)n4, HW / 4, C, X, b, D, y); }); \
        row("flat specialised U=" #U, tt, bytes, maxdiff(y, yref, n)); } while (0)
        FLAT(1); FLAT(2); FLAT(4);
#define PLANE(U) do { poison(); dim3 g((HW / 4 + 256 * U - 1) / (256 * U), N * C); float tt = time_it([&] { if (G) ba_plane<1, U><<<g, 256>>>(HW / 4, C, X, b, D, y); else ba_plane<0, U><<<g, 256>>>(HW / 4, C, X, b, D, y); }); \
        row("plane specialised U=" #U, tt, bytes, maxdiff(y, yref, n)); } while (0)
        PLANE(1); PLANE(2); PLANE(4);
    }

    // upfirdn: up 2 of [16,512,32,32] (pad 2,1), down 2 of [16,512,64,64] (pad 1,1) and
    // the filter of [16,512,64,64] (pad 2,1), gain 4 / 1 / 1. The previous row-streaming
    // kernels (OLD_UPFIRDN_REV) against the engine's and its shared-tile ones.
    float* filt; CK(cudaMalloc(&filt, 16 * 4));
    { float h[16]; float t4[4] = {1, 3, 3, 1}; for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) h[i * 4 + j] = t4[i] * t4[j] / 64.f; CK(cudaMemcpy(filt, h, 64, cudaMemcpyHostToDevice)); }
    for (int mode = 0; mode < 3; mode++) { // 0 up 2, 1 down 2, 2 filter
        UpfirdnParams p{};
        p.major = N * C; p.fh = p.fw = 4; p.flip = 0;
        p.up_x = p.up_y = p.down_x = p.down_y = 1; p.gain = 1;
        p.in_h = p.in_w = 64;
        if (mode == 0) { p.in_h = p.in_w = 32; p.up_x = p.up_y = 2; p.pad_x0 = p.pad_y0 = 2; p.pad_x1 = p.pad_y1 = 1; p.gain = 4; }
        else if (mode == 1) { p.down_x = p.down_y = 2; p.pad_x0 = p.pad_y0 = 1; p.pad_x1 = p.pad_y1 = 1; }
        else { p.pad_x0 = p.pad_y0 = 2; p.pad_x1 = p.pad_y1 = 1; }
        p.out_h = (p.in_h * p.up_y + p.pad_y0 + p.pad_y1 - 4 + p.down_y) / p.down_y; p.out_w = p.out_h;
        oldv::UpfirdnParams q; memcpy(&q, &p, sizeof p);
        long long nin = (long long)p.major * p.in_h * p.in_w, nout = (long long)p.major * p.out_h * p.out_w;
        double bytes = 4.0 * (nin + nout);
        const char* what[3] = {"up 2", "down 2", "filter"};
        printf("-- upfirdn2d %s [16,512,%d,%d] -> %d\n", what[mode], p.in_h, p.in_w, p.out_h);
        int tin = ((32 - 1) * p.down_x + 4 - 1) / p.up_x + 1; int sh = 4 * (tin * tin + 16);
        dim3 g((p.out_w + 31) / 32, (p.out_h + 31) / 32, std::min(p.major, 65535)), blk(32, 8);
        // The engine's plan (PlanUpfirdn2d): block (32, 4), a strip per warp;
        // down 2 and the filter loop over planes from about 16 blocks per SM.
        const int units = mode == 0 ? (p.out_w + 1) / 2 : p.out_w;
        const int rows = mode == 0 ? (p.out_h + 1) / 2 : p.out_h, strip = mode == 2 ? 16 : 8;
        const int gx = (units + 31) / 32, gy = ((rows + strip - 1) / strip + 3) / 4;
        const int planes = mode == 0 ? std::min(p.major, 65535) : std::min(p.major, std::max(1, (16 * sms + gx * gy - 1) / (gx * gy)));
        dim3 gs(gx, gy, planes), gold(gx, gy, std::min(p.major, 65535)), b4(32, 4);
        // The reference: the previous row-streaming kernels (make-old.sh's
        // second revision), a plane per block as they were planned.
        float t0 = time_it([&] {
            if (mode == 0) oldv::old_upfirdn2d_up2_f4_f32<<<gold, b4>>>(q, x, filt, yref);
            else if (mode == 1) oldv::old_upfirdn2d_down2_f4_f32<<<gold, b4>>>(q, x, filt, yref);
            else oldv::old_upfirdn2d_filter_f4_f32<<<gold, b4>>>(q, x, filt, yref);
        });
        row(OLD_UPFIRDN_REV " row streaming", t0, bytes, 0);
        poison(); float tt = time_it([&] {
            if (mode == 0) upfirdn2d_up2_f4_tiled_f32<<<g, blk, sh>>>(p, x, filt, y);
            else if (mode == 1) upfirdn2d_down2_f4_tiled_f32<<<g, blk, sh>>>(p, x, filt, y);
            else upfirdn2d_filter_f4_tiled_f32<<<g, blk, sh>>>(p, x, filt, y);
        });
        row("engine: shared tile (_tiled_)", tt, bytes, maxdiff(y, yref, nout));
        poison(); float t1 = time_it([&] {
            if (mode == 0) upfirdn2d_up2_f4_f32<<<gs, b4>>>(p, x, filt, y);
            else if (mode == 1) upfirdn2d_down2_f4_f32<<<gs, b4>>>(p, x, filt, y);
            else upfirdn2d_filter_f4_f32<<<gs, b4>>>(p, x, filt, y);
        });
        row("engine: row streaming", t1, bytes, maxdiff(y, yref, nout));
        // Other strips and register caps of the same kernels.
        char name[80];
#define STREAM(S, MB) do { const int gyv = ((rows + S - 1) / S + 3) / 4; \
            dim3 gv(gx, gyv, mode == 0 ? std::min(p.major, 65535) : std::min(p.major, std::max(1, (16 * sms + gx * gyv - 1) / (gx * gyv)))); \
            poison(); float tv = time_it([&] { if (mode == 0) uf_stream<0, S, MB><<<gv, b4>>>(p, x, filt, y); \
                else if (mode == 1) uf_stream<1, S, MB><<<gv, b4>>>(p, x, filt, y); else uf_stream<2, S, MB><<<gv, b4>>>(p, x, filt, y); }); \
            snprintf(name, sizeof name, "streaming strip %d, %d blocks/SM", S, MB); row(name, tv, bytes, maxdiff(y, yref, nout)); } while (0)
        // (A strip's rows are all fetched before any is used, so registers
        // grow with the strip: a 128-register cap (4 blocks/SM) spills from
        // strip 8 of down 2.)
        STREAM(2, 1); STREAM(4, 1); STREAM(8, 1); STREAM(16, 1); STREAM(4, 4); STREAM(8, 4);
#undef STREAM
        if (mode == 1) {
            int tsh = 4 * (tin * tin);
            poison(); float t4 = time_it([&] { uf_tiled2d<1, 2><<<g, blk, tsh>>>(p, x, filt, y); });
            row("tiled, 2-D tile load", t4, bytes, maxdiff(y, yref, nout));
        }
    }
    // GEMM main loops: the engine's sgemm_128x128x8_f32 against vgemm variants
    // and the engine's tensor-core tile.
    {
        float* pk; CK(cudaMalloc(&pk, 4LL * 256 * 64 * sms));
        const int iters = 4096;
        float tp = time_it([&] { peak_fma_f32<<<64 * sms, 256>>>(iters, 1.0f, 1e-7f, pk); });
        const double peak = 16.0 * iters * 256.0 * 64 * sms / (tp * 1e-3) / 1e9;
        printf("-- sgemm, FP32 FMA peak %.0f GFLOP/s\n", peak);
        // 4096^3, the direct conv forward's GEMM, 2048^3, and one of the 36 GEMMs of a
        // Winograd F(4x4,3x3) conv at 64x64 (512 x tiles of 8 images x 512).
        const int shapes[4][3] = {{4096, 4096, 4096}, {512, 16384, 4608}, {2048, 2048, 2048}, {512, 2048, 512}};
        for (auto& sh : shapes) {
            const int M = sh[0], N = sh[1], K = sh[2];
            float *A, *B, *Cv, *Cr;
            CK(cudaMalloc(&A, 4LL * M * K)); CK(cudaMalloc(&B, 4LL * K * N));
            CK(cudaMalloc(&Cv, 4LL * M * N)); CK(cudaMalloc(&Cr, 4LL * M * N));
            fill_rand<<<1024, 256>>>(A, (long long)M * K, 5); fill_rand<<<1024, 256>>>(B, (long long)K * N, 6);
            GemmParams gp{};
            gp.M = M; gp.N = N; gp.K = K;
            gp.a_row = K; gp.a_col = 1; gp.b_row = N; gp.b_col = 1; gp.c_row = N; gp.c_col = 1;
            gp.alpha = 1; gp.beta = 0;
            const double flops = 2.0 * M * N * K;
            char name[80];
            auto grow = [&](const char* n, float ms, double err) {
                printf("%-40s %8.4f ms %7.0f GFLOP/s %5.1f%% of FMA peak  maxdiff %.2g\n", n, ms, flops / (ms * 1e-3) / 1e9,
                       100 * flops / (ms * 1e-3) / 1e9 / peak, err);
            };
            printf("   %d x %d x %d\n", M, N, K);
            dim3 g(N / 128, M / 128, 1);
            float t0 = time_it([&] { sgemm_128x128x8_f32<<<g, 256>>>(gp, A, B, Cr); });
            grow("engine sgemm_128x128x8_f32", t0, 0);
#define VG(BK, MB, DB) do { CK(cudaMemset(Cv, 0xff, 4LL * M * N)); \
            float tt = time_it([&] { vgemm<BK, MB, DB><<<g, 256>>>(M, N, K, A, B, Cv); }); \
            snprintf(name, sizeof name, "vgemm BK %d, %d blocks/SM, frag db %d", BK, MB, (int)DB); \
            grow(name, tt, maxdiff(Cv, Cr, (long long)M * N)); } while (0)
            VG(8, 2, false); VG(8, 1, true); VG(16, 2, false); VG(16, 1, true); VG(16, 2, true);
#undef VG
            // The 3xTF32 tensor-core tiles (sm_80+): maxdiff against the FFMA tile's
            // result says whether they keep float32's accuracy (~1e-5 at these K).
            if (prop.major < 8) {
                printf("(no tensor-core rows: compute %d.%d has no TF32 tensor cores)\n", prop.major, prop.minor);
                CK(cudaFree(A)); CK(cudaFree(B)); CK(cudaFree(Cv)); CK(cudaFree(Cr));
                continue;
            }
            dim3 g64(N / 64, M / 64, 1);
#define TC(KERNEL, GRID, NOTE) do { CK(cudaMemset(Cv, 0xff, 4LL * M * N)); \
            float tt = time_it([&] { KERNEL<<<GRID, 256>>>(gp, A, B, Cv); }); \
            grow("engine " #KERNEL " (3xTF32" NOTE ")", tt, maxdiff(Cv, Cr, (long long)M * N)); } while (0)
            TC(sgemm_tc128_f32, g, ""); TC(sgemm_tcs128_f32, g, ", presplit");
            TC(sgemm_tc64_f32, g64, ""); TC(sgemm_tcs64_f32, g64, ", presplit");
#undef TC
            CK(cudaFree(A)); CK(cudaFree(B)); CK(cudaFree(Cv)); CK(cudaFree(Cr));
        }
        CK(cudaFree(pk));
    }
    // Stride-2 input gradients: the transposed conv of an up-2 layer at 64x64
    // (dy [16,512,32,32] -> dx [16,512,65,65], pad 0) and the input gradient of
    // a down-2 layer's strided conv (dy [16,512,32,32] -> dx [16,512,66,66]).
    {
        struct { int H, pad; const char* what; } cases[2] = {{65, 0, "transposed conv 32->65 (up 2)"}, {66, 0, "dgrad of stride-2 conv 66->32 (down 2)"}};
        for (auto& c : cases) {
            ConvParams cp{};
            cp.N = 16; cp.C = 512; cp.H = cp.W = c.H; cp.O = 512; cp.KH = cp.KW = 3; cp.groups = 1;
            cp.stride_h = cp.stride_w = 2; cp.pad_h = cp.pad_w = c.pad; cp.dil_h = cp.dil_w = 1;
            cp.OH = cp.OW = (c.H + 2 * c.pad - 3) / 2 + 1;
            const long long ndy = 16LL * 512 * cp.OH * cp.OW, ndx = 16LL * 512 * c.H * c.H, nw = 512LL * 512 * 9;
            float *dyp, *wp, *dxr, *dxv;
            CK(cudaMalloc(&dyp, 4 * ndy)); CK(cudaMalloc(&wp, 4 * nw)); CK(cudaMalloc(&dxr, 4 * ndx)); CK(cudaMalloc(&dxv, 4 * ndx));
            fill_rand<<<1024, 256>>>(dyp, ndy, 7); fill_rand<<<1024, 256>>>(wp, nw, 8);
            const double useful = 2.0 * 16 * 512 * 512 * 9 * cp.OH * cp.OW; // each dy pixel meets 9 taps
            printf("-- %s, %.1f GFLOP useful\n", c.what, useful / 1e9);
            dim3 g0((16 * c.H * c.H + 127) / 128, 4, 1);
            float t0 = time_it([&] { conv2d_dgrad128_f32<<<g0, 256>>>(cp, dyp, wp, dxr, 0.0f); });
            printf("%-40s %8.4f ms %7.0f useful GFLOP/s\n", "engine conv2d_dgrad128_f32", t0, useful / (t0 * 1e-3) / 1e9);
            CK(cudaMemset(dxv, 0xff, 4 * ndx));
            const int hc = (c.H + 1) / 2;
            dim3 g1((16 * hc * hc + 127) / 128, 4, 4);
            float t1 = time_it([&] { conv2d_dgrad_phase128_f32<<<g1, 256>>>(cp, dyp, wp, dxv, 0.0f); });
            printf("%-40s %8.4f ms %7.0f useful GFLOP/s  maxdiff %.2g\n", "engine conv2d_dgrad_phase128_f32", t1,
                   useful / (t1 * 1e-3) / 1e9, maxdiff(dxv, dxr, ndx));
            CK(cudaFree(dyp)); CK(cudaFree(wp)); CK(cudaFree(dxr)); CK(cudaFree(dxv));
        }
    }
    CK(cudaDeviceSynchronize());
    printf("done\n");
    return 0;
}
