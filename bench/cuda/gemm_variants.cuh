// gemm_variants.cuh: candidate FP32 GEMM main loops for variants.cu; device
// code only, so that NVRTC can check it where nvcc is missing.
//
// vgemm<BK, MINB, REGDB>: C = A B for contiguous row-major A [M, K], B [K, N],
// C [M, N] with M, N multiples of 128 and K a multiple of BK (the timing
// shapes). The engine's sgemm_128x128x8_f32 (52% of the FP32 FMA peak on an
// H200 at 4096^3) with what it lacks, each switchable:
//   BK     k per shared-memory stage (8 or 16): half the barriers at 16;
//   MINB   blocks per SM promised to the compiler (2: at most 128 registers,
//          the engine's; 1: up to 255, room to pipeline the fragments);
//   REGDB  the next k's A and B fragments loaded from shared memory while
//          the current ones are multiplied.
// Global loads are float4 (A along k, B along n) and C is stored as float4.
template <int BK, int MINB, bool REGDB>
__global__ void __launch_bounds__(256, MINB) vgemm(int M, int N, int K, const float* __restrict__ A,
                                                   const float* __restrict__ B, float* __restrict__ C)
{
    constexpr int LA = BK / 8; // float4 loads of A (and of B) per thread per stage
    __shared__ __align__(16) float As[2][BK][128 + 4];
    __shared__ __align__(16) float Bs[2][BK][128 + 4];
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * 128, n0 = blockIdx.x * 128;
    // A: row m0 + (tid >> 1), k = (tid & 1) * 4 + 8 * l; B: row (tid >> 5) + 8 * l, n = (tid & 31) * 4.
    const float* pa = A + (long long)(m0 + (tid >> 1)) * K + (tid & 1) * 4;
    const float* pb = B + (long long)(tid >> 5) * N + n0 + (tid & 31) * 4;
    float4 ra[LA], rb[LA];
    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;
    const int nk = K / BK;
    auto load = [&](int t) {
#pragma unroll
        for (int l = 0; l < LA; l++) {
            ra[l] = *reinterpret_cast<const float4*>(pa + t * BK + 8 * l);
            rb[l] = *reinterpret_cast<const float4*>(pb + (long long)(t * BK + 8 * l) * N);
        }
    };
    auto store = [&](int buf) {
#pragma unroll
        for (int l = 0; l < LA; l++) {
            const int ak = (tid & 1) * 4 + 8 * l, am = tid >> 1;
            As[buf][ak + 0][am] = ra[l].x;
            As[buf][ak + 1][am] = ra[l].y;
            As[buf][ak + 2][am] = ra[l].z;
            As[buf][ak + 3][am] = ra[l].w;
            *reinterpret_cast<float4*>(&Bs[buf][(tid >> 5) + 8 * l][(tid & 31) * 4]) = rb[l];
        }
    };
    load(0);
    store(0);
    __syncthreads();
    for (int t = 0; t < nk; t++) {
        const int buf = t & 1;
        if (t + 1 < nk) load(t + 1);
        float4 fa[2][2], fb[2][2]; // [stage][half]
        fa[0][0] = *reinterpret_cast<const float4*>(&As[buf][0][ty * 4]);
        fa[0][1] = *reinterpret_cast<const float4*>(&As[buf][0][64 + ty * 4]);
        fb[0][0] = *reinterpret_cast<const float4*>(&Bs[buf][0][tx * 4]);
        fb[0][1] = *reinterpret_cast<const float4*>(&Bs[buf][0][64 + tx * 4]);
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            const int cur = REGDB ? (kk & 1) : 0, nxt = REGDB ? cur ^ 1 : 0;
            if (REGDB && kk + 1 < BK) {
                fa[nxt][0] = *reinterpret_cast<const float4*>(&As[buf][kk + 1][ty * 4]);
                fa[nxt][1] = *reinterpret_cast<const float4*>(&As[buf][kk + 1][64 + ty * 4]);
                fb[nxt][0] = *reinterpret_cast<const float4*>(&Bs[buf][kk + 1][tx * 4]);
                fb[nxt][1] = *reinterpret_cast<const float4*>(&Bs[buf][kk + 1][64 + tx * 4]);
            }
            if (!REGDB && kk > 0) {
                fa[0][0] = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
                fa[0][1] = *reinterpret_cast<const float4*>(&As[buf][kk][64 + ty * 4]);
                fb[0][0] = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
                fb[0][1] = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
            }
            const float av[8] = {fa[cur][0].x, fa[cur][0].y, fa[cur][0].z, fa[cur][0].w,
                                 fa[cur][1].x, fa[cur][1].y, fa[cur][1].z, fa[cur][1].w};
            const float bv[8] = {fb[cur][0].x, fb[cur][0].y, fb[cur][0].z, fb[cur][0].w,
                                 fb[cur][1].x, fb[cur][1].y, fb[cur][1].z, fb[cur][1].w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        if (t + 1 < nk) store(buf ^ 1); // its last readers finished before the previous barrier
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
        float* c = C + (long long)m * N + n0;
        *reinterpret_cast<float4*>(c + tx * 4) = make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
        *reinterpret_cast<float4*>(c + 64 + tx * 4) = make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]);
    }
}

template __global__ void vgemm<8, 2, false>(int, int, int, const float*, const float*, float*);
template __global__ void vgemm<8, 1, true>(int, int, int, const float*, const float*, float*);
template __global__ void vgemm<16, 2, false>(int, int, int, const float*, const float*, float*);
template __global__ void vgemm<16, 1, true>(int, int, int, const float*, const float*, float*);
template __global__ void vgemm<16, 2, true>(int, int, int, const float*, const float*, float*);
