// sgemm.cu: batched single-precision matrix multiply.
//
// Computes C[z] = alpha * A[z] B[z] + beta * C[z] for z < gridDim.z, with
// A[z] M x K, B[z] K x N, C[z] M x N, every operand addressed by strides:
//   A(m,k) = A[z*a_batch + m*a_row + k*a_col], likewise B(k,n) and C(m,n);
// with batch_inner > 1, z = zo*batch_inner + zi and z*a_batch stands for
// zi*a_batch + zo*a_outer (two batch dims that share no stride).
// Transposes are stride swaps; a broadcast operand has batch stride 0. With
// beta == 0, C is not read (it may hold garbage or NaN). Offsets within one
// matrix are 32-bit (fewer than 2^31 elements spanned); batch offsets 64-bit.
//
// Cost: 2*M*N*K FLOPs; 4*(M*K + K*N + M*N) bytes at least (each A/B element is
// re-read N/128 or M/128 times, from L2). Compute-bound above ~ M,N,K = 512.
//
// sgemm_128x128x8_f32: 128x128 output tile per block, K in steps of 8, 256
//   threads each computing 8x8 outputs (two 4x4 quadrants 64 apart, so that
//   shared-memory reads are conflict-free float4s). Tiles are double-buffered
//   in shared memory (16.5 KiB) with the next tile prefetched into registers.
//   The loaders pick their thread mapping from the strides so that global
//   reads are coalesced for either orientation of A and B. Launch bounds ask
//   for 2 blocks per SM (<= 128 registers per thread).
//   Launch: block 256, grid (ceil(N/128), ceil(M/128), batch).
// sgemm_128x128x16_f32: the same tile with 16 k per stage (half the
//   barriers; 33 KiB of shared memory) and the next k's fragments read from
//   shared memory while the current ones are multiplied (what
//   bench/cuda/gemm_variants.cuh times as vgemm<16, 2, true>).
// Which of the large-tile kernels runs a GEMM is the autotuner's
// choice per shape (tensor/cuda_autotune.go), or LAFITE_CUDA_GEMM's.
// sgemm_64x64x16_f32: a 64x64 tile (4x4 outputs per thread, 16 k per stage,
//   fragments double-buffered) for GEMMs whose 128x128 grid leaves SMs idle,
//   e.g. CLIP's 400 x 768 x 3072 layers at batch 8: 4 x 24 = 96 blocks of
//   128x128 on 132 SMs, 7 x 48 = 336 of 64x64. Half the multiply-adds per
//   shared-memory read of the 128x128 tile. Up to 3 blocks per SM.
//   Launch: block 256, grid (ceil(N/64), ceil(M/64), batch).
// sgemm_tc128_f32, sgemm_tcs128_f32: the 128x128 tile on TF32 tensor
//   cores at float32 accuracy (three tensor-core products per multiply-add,
//   "3xTF32"; see sgemm_tc_tile), sm_80 and later; 8 warps of 64x32
//   outputs. tc splits operands as it reads them, tcs as it stages them.
//   Launch: block 256, grid (ceil(N/128), ceil(M/128), batch).
// sgemm_tc64_f32, sgemm_tcs64_f32: the same at 64x64 (8 warps of 32x16),
//   for grids the 128x128 tile leaves short of the SMs; up to 3 blocks/SM.
//   Launch: block 256, grid (ceil(N/64), ceil(M/64), batch).
// sgemm_small_f32: 16x16 tile, one output per thread; for M or N below ~64
//   (fully-connected layers at small batch) where a 128x128 tile idles.
//   Launch: block (16,16), grid (ceil(N/16), ceil(M/16), batch).
// sgemm_skinny_f32: few rows and long K (see below): 16 x 32 tiles, K split
//   over a block's 8 warps. Launch: block 256, grid (ceil(N/32), ceil(M/16), batch).
//
// Entry points:
//   sgemm_128x128x8_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_small_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_skinny_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_128x128x16_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_64x64x16_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_tc128_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_tcs128_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_tc64_f32(GemmParams p, const float* A, const float* B, float* C)
//   sgemm_tcs64_f32(GemmParams p, const float* A, const float* B, float* C)

struct GemmParams {
    int M, N, K;
    int batch_inner; // > 1: z = outer * batch_inner + inner (two batch dims); else one
    long long a_batch, a_row, a_col; // strides of A in elements
    long long b_batch, b_row, b_col;
    long long c_batch, c_row, c_col;
    float alpha, beta;
    long long a_outer, b_outer, c_outer; // strides of the outer batch dim (batch_inner > 1)
};

// sgemm_batch is the offset of blockIdx.z's matrices in each operand: one
// batch dim, or two (batch_inner > 1), so that a batch of permuted views
// whose dims do not merge into one stride (attention's heads of a
// [L, N, 3E] projection) is still one launch.
struct GemmOffsets {
    long long a, b, c;
};

__device__ __forceinline__ GemmOffsets sgemm_batch(const GemmParams& p)
{
    long long zi = blockIdx.z, zo = 0;
    if (p.batch_inner > 1) {
        zo = zi / p.batch_inner;
        zi -= zo * p.batch_inner;
    }
    return {zi * p.a_batch + zo * p.a_outer, zi * p.b_batch + zo * p.b_outer, zi * p.c_batch + zo * p.c_outer};
}

// sgemm_to_batch moves A, B and C to blockIdx.z's matrices.
__device__ __forceinline__ void sgemm_to_batch(const GemmParams& p, const float* __restrict__& A, const float* __restrict__& B,
                                               float* __restrict__& C)
{
    const GemmOffsets o = sgemm_batch(p);
    A += o.a;
    B += o.b;
    C += o.c;
}

#define GB_PAD 4 // row padding: transposed stores hit distinct banks, float4 alignment kept

// sgemm_load4: a thread's group of 4 elements of one operand: from p + off,
// step apart (32-bit offsets, as in the rest of the tile), at row r (of `rows`; m for A, n for B) and k (of K), running along
// the rows (rfast) or along k. A group wholly inside the matrix loads as one
// float4 where its elements are adjacent and aligned (vec), otherwise
// element by element, zero outside.
__device__ __forceinline__ void sgemm_load4(float (&v)[4], const float* __restrict__ p, int off, int step, bool vec,
                                            bool rfast, int r, int rows, int k, int K)
{
    if (vec && (rfast ? r + 3 < rows && k < K : r < rows && k + 3 < K)) {
        const float4 q = __ldg(reinterpret_cast<const float4*>(p + off));
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
        return;
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int rj = r + (rfast ? j : 0), kj = k + (rfast ? 0 : j);
        v[j] = (rj < rows && kj < K) ? p[off + j * step] : 0.0f;
    }
}

// sgemm_put writes alpha * v (+ beta * C) to C(m, n) if it is inside C.
// With beta == 0, C is not read.
__device__ __forceinline__ void sgemm_put(const GemmParams& p, float* __restrict__ C, int m, int n, float v)
{
    if (m >= p.M || n >= p.N) return;
    float* c = C + (m * (int)p.c_row + n * (int)p.c_col);
    v = p.alpha * v;
    if (p.beta != 0.0f) v = fmaf(p.beta, *c, v);
    *c = v;
}

// ---- Tensor cores at float32 accuracy (3xTF32) ----
//
// A TF32 tensor-core multiply keeps 10 of float32's 23 mantissa bits. Each
// operand x is split into big = x rounded to TF32 and small = x - big, of
// which the tensor core reads 11 significant bits: 22 in all. x*y is then
// small_x*big_y + big_x*small_y + big_x*big_y (the small terms first), the
// dropped small_x*small_y being ~2^-22 of x*y: float32's accuracy, at three
// tensor-core products per multiply-add. On an H100/H200 a warp's m16n8k8
// TF32 product does 1024 multiply-adds per instruction, and the tensor
// cores' TF32 rate is several times the FP32 FMA rate, so the three
// products still leave room over the FFMA tiles above.

// tf32_split: x as big + small, the bit patterns of two TF32 operands.
// big is x rounded to TF32 (to nearest, ties away from zero: add half of
// the dropped 13 bits' range, then clear them); small is x - big, exact in
// float32, of which the tensor core reads the high 19 bits (truncation,
// ~2^-22 of x). Non-finite operands give NaN, not Inf: an Inf's small part
// is Inf - Inf (and were it 0, the other operand's small parts would meet
// it as 0 * Inf), as in CUTLASS's 3xTF32; a NaN's big part may come out as
// any value (0x7fffffff carries into the sign), its small part is NaN. So
// does an |x| within 2^-12 of FLT_MAX, whose big part rounds to Inf.
__device__ __forceinline__ void tf32_split(float x, unsigned& big, unsigned& small)
{
    big = (__float_as_uint(x) + 0x1000u) & 0xffffe000u;
    small = __float_as_uint(x - __uint_as_float(big));
}

// SgemmStager: a block's global -> register -> shared-memory pipeline for
// the A and B tiles of one stage (BM rows or columns by BK k), shared by the
// FFMA and tensor-core tiles. 256 threads each load groups of 4 elements of
// each operand along whichever index has unit stride, so that global reads
// are coalesced for either orientation; a group of all 256 threads covers
// KG = 1024/BM k, and there are BK/KG groups. fetch reads stage t into
// registers (issued a stage ahead, so the loads fly while the previous
// stage is multiplied); store writes them as [k][m] and [k][n] rows of BM +
// PAD floats.
template <int BM, int BK, int PAD>
struct SgemmStager {
    static constexpr int KG = 1024 / BM;  // k covered by one load group
    static constexpr int L = BK / KG;     // load groups per stage
    static constexpr int TPR = BM / 4;    // threads across BM in an m- (n-) fast group
    static constexpr int TPK = KG / 4;    // threads across KG in a k-fast group
    static_assert(L >= 1 && BK % KG == 0, "BK must be a multiple of 1024 / BM");

    const float* pa;
    const float* pb;
    int a_m, a_k, b_k, b_n, a_j, b_j, ac, br, m_lo, n_lo;
    bool a_mfast, b_kfast, a_vec, b_vec;
    float ra[L][4], rb[L][4];

    __device__ __forceinline__ SgemmStager(const GemmParams& p, const float* __restrict__ A,
                                           const float* __restrict__ B, int m0, int n0, int tid)
    {
        a_mfast = (p.a_row == 1 && p.a_col != 1); // A stored column-major (transposed)
        b_kfast = (p.b_row == 1 && p.b_col != 1); // B stored column-major (transposed)
        if (a_mfast) { a_k = tid / TPR; a_m = (tid % TPR) * 4; } else { a_m = tid / TPK; a_k = (tid % TPK) * 4; }
        if (b_kfast) { b_n = tid / TPK; b_k = (tid % TPK) * 4; } else { b_k = tid / TPR; b_n = (tid % TPR) * 4; }
        // Per-thread base pointers; stage t is at base + k0 * (k stride).
        // Within one matrix offsets are 32-bit (the batch offset is 64-bit).
        const int ar = (int)p.a_row, bc = (int)p.b_col;
        ac = (int)p.a_col, br = (int)p.b_row;
        pa = A + ((m0 + a_m) * ar + a_k * ac);
        pb = B + (b_k * br + (n0 + b_n) * bc);
        a_j = a_mfast ? ar : ac; // step between a thread's 4 elements
        b_j = b_kfast ? br : bc;
        // Stage offsets k0 * (k stride) are multiples of 4 elements when the
        // group runs along k (k stride 1) and of 8 k otherwise, so an aligned
        // base keeps every stage's group aligned.
        a_vec = a_j == 1 && ((unsigned long long)pa & 15) == 0;
        b_vec = b_j == 1 && ((unsigned long long)pb & 15) == 0;
        m_lo = m0 + a_m;
        n_lo = n0 + b_n;
    }

    __device__ __forceinline__ void fetch(const GemmParams& p, int t)
    {
#pragma unroll
        for (int l = 0; l < L; l++) {
            const int k0 = t * BK + KG * l;
            sgemm_load4(ra[l], pa, k0 * ac, a_j, a_vec, a_mfast, m_lo, p.M, k0 + a_k, p.K);
            sgemm_load4(rb[l], pb, k0 * br, b_j, b_vec, !b_kfast, n_lo, p.N, k0 + b_k, p.K);
        }
    }

    // store_each calls put_a(k, m, v) and put_b(k, n, v) for each element
    // fetched, with its place in the stage.
    template <class PutA, class PutB>
    __device__ __forceinline__ void store_each(PutA put_a, PutB put_b) const
    {
#pragma unroll
        for (int l = 0; l < L; l++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (a_mfast) put_a(a_k + KG * l, a_m + j, ra[l][j]); else put_a(a_k + KG * l + j, a_m, ra[l][j]);
                if (b_kfast) put_b(b_k + KG * l + j, b_n, rb[l][j]); else put_b(b_k + KG * l, b_n + j, rb[l][j]);
            }
    }

    __device__ __forceinline__ void store(float (*As)[BM + PAD], float (*Bs)[BM + PAD]) const
    {
        store_each([&](int k, int m, float v) { As[k][m] = v; }, [&](int k, int n, float v) { Bs[k][n] = v; });
    }
};

// sgemm_tile: the BM x BM output tile's main loop (BM = 128 or 64; 256
// threads in a 16 x 16 grid, each computing (BM/16) x (BM/16) outputs as
// BM/64 x BM/64 quadrants of 4 x 4, 64 apart, so that shared-memory reads
// are conflict-free float4s) with BK k per stage and, with REGDB, the next
// kk's fragments loaded from shared memory while the current ones are
// multiplied.
template <int BM, int BK, bool REGDB>
__device__ __forceinline__ void sgemm_tile(const GemmParams& p, const float* __restrict__ A,
                                           const float* __restrict__ B, float* __restrict__ C)
{
    constexpr int Q = BM / 64;     // quadrants per dimension
    constexpr int F = 4 * Q;       // outputs per thread per dimension
    __shared__ __align__(16) float As[2][BK][BM + GB_PAD]; // As[k][m]
    __shared__ __align__(16) float Bs[2][BK][BM + GB_PAD]; // Bs[k][n]

    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BM;
    sgemm_to_batch(p, A, B, C);
    SgemmStager<BM, BK, GB_PAD> st(p, A, B, m0, n0, tid);

    float acc[F][F];
#pragma unroll
    for (int i = 0; i < F; i++)
#pragma unroll
        for (int j = 0; j < F; j++) acc[i][j] = 0.0f;

    const int nk = (p.K + BK - 1) / BK;
    for (int t = -1; t < nk; t++) {
        // Prefetch stage t+1 into registers.
        if (t + 1 < nk) st.fetch(p, t + 1);
        // Multiply stage t from shared memory.
        if (t >= 0) {
            const int buf = t & 1;
            float4 fa[2][Q], fb[2][Q]; // [fragment set][quadrant]
            if (REGDB) {
#pragma unroll
                for (int q = 0; q < Q; q++) {
                    fa[0][q] = *reinterpret_cast<const float4*>(&As[buf][0][64 * q + ty * 4]);
                    fb[0][q] = *reinterpret_cast<const float4*>(&Bs[buf][0][64 * q + tx * 4]);
                }
            }
#pragma unroll
            for (int kk = 0; kk < BK; kk++) {
                const int cur = REGDB ? (kk & 1) : 0;
                const int nxt = REGDB ? cur ^ 1 : 0;
                const int kl = REGDB ? kk + 1 : kk; // the k whose fragments load now
                if (!REGDB || kk + 1 < BK) {
#pragma unroll
                    for (int q = 0; q < Q; q++) {
                        fa[nxt][q] = *reinterpret_cast<const float4*>(&As[buf][kl][64 * q + ty * 4]);
                        fb[nxt][q] = *reinterpret_cast<const float4*>(&Bs[buf][kl][64 * q + tx * 4]);
                    }
                }
                float av[F], bv[F];
#pragma unroll
                for (int q = 0; q < Q; q++) {
                    av[4 * q] = fa[cur][q].x, av[4 * q + 1] = fa[cur][q].y, av[4 * q + 2] = fa[cur][q].z, av[4 * q + 3] = fa[cur][q].w;
                    bv[4 * q] = fb[cur][q].x, bv[4 * q + 1] = fb[cur][q].y, bv[4 * q + 2] = fb[cur][q].z, bv[4 * q + 3] = fb[cur][q].w;
                }
#pragma unroll
                for (int i = 0; i < F; i++)
#pragma unroll
                    for (int j = 0; j < F; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        }
        // Store stage t+1 into the other buffer. Its last readers finished
        // before the barrier that ended iteration t-1.
        if (t + 1 < nk) st.store(As[(t + 1) & 1], Bs[(t + 1) & 1]);
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < F; i++) {
        const int m = m0 + 64 * (i / 4) + ty * 4 + i % 4;
        if (m >= p.M) continue;
#pragma unroll
        for (int j = 0; j < F; j++) {
            const int n = n0 + 64 * (j / 4) + tx * 4 + j % 4;
            if (n >= p.N) continue;
            float* c = C + (m * (int)p.c_row + n * (int)p.c_col);
            float v = p.alpha * acc[i][j];
            if (p.beta != 0.0f) v = fmaf(p.beta, *c, v);
            *c = v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256, 2)
sgemm_128x128x8_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tile<128, 8, false>(p, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 2)
sgemm_128x128x16_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tile<128, 16, true>(p, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 3)
sgemm_64x64x16_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tile<64, 16, true>(p, A, B, C);
}

// mma_tf32_16x8x8: d += a b for a warp's 16x8 tile of d, a 16x8 (row-major)
// and b 8x8 (k by n), in the PTX ISA's m16n8k8 fragments, with g = lane / 4
// and q = lane % 4: a = {A[g][q], A[g+8][q], A[g][q+4], A[g+8][q+4]},
// b = {B[q][g], B[q+4][g]}, d = {D[g][2q], D[g][2q+1], D[g+8][2q],
// D[g+8][2q+1]}. The host simulator implements the same contract.
__device__ __forceinline__ void mma_tf32_16x8x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(LAFITE_HOSTSIM)
    sim::mma_tf32_16x8x8(d, a, b);
#else
    __trap(); // no TF32 tensor cores before sm_80: the planner never launches it there
#endif
}

#define TC_PAD 8 // [k][m] rows of BM + 8 elements (136 or 72), 8 banks apart: the fragment reads (k = lane % 4, m = lane / 4) hit 32 banks

// TcStage: one stage of a BM x BM tensor-core tile in shared memory: the A
// and B tiles as float32 (PRESPLIT false), or as the planes of their big
// and small TF32 parts (PRESPLIT true); BK k per stage: 16, or 8 for the
// split 128 tile, which keeps it at 34 KiB (the stager's loads need 16 for
// BM = 64). a_parts and b_parts return an element's two TF32 parts,
// splitting it if needed.
template <int BM, bool PRESPLIT> struct TcStage;
template <int BM> struct TcStage<BM, false> {
    static constexpr int BK = 16;
    float a[BK][BM + TC_PAD], b[BK][BM + TC_PAD];
    __device__ __forceinline__ void a_parts(int k, int m, unsigned& big, unsigned& small) const { tf32_split(a[k][m], big, small); }
    __device__ __forceinline__ void b_parts(int k, int n, unsigned& big, unsigned& small) const { tf32_split(b[k][n], big, small); }
    template <class Stager> __device__ __forceinline__ void store(const Stager& st)
    {
        st.store(a, b);
    }
};
template <int BM> struct TcStage<BM, true> {
    static constexpr int BK = BM == 128 ? 8 : 16;
    unsigned a_big[BK][BM + TC_PAD], a_small[BK][BM + TC_PAD], b_big[BK][BM + TC_PAD], b_small[BK][BM + TC_PAD];
    __device__ __forceinline__ void a_parts(int k, int m, unsigned& big, unsigned& small) const { big = a_big[k][m], small = a_small[k][m]; }
    __device__ __forceinline__ void b_parts(int k, int n, unsigned& big, unsigned& small) const { big = b_big[k][n], small = b_small[k][n]; }
    template <class Stager> __device__ __forceinline__ void store(const Stager& st)
    {
        st.store_each([&](int k, int m, float v) { tf32_split(v, a_big[k][m], a_small[k][m]); },
                      [&](int k, int n, float v) { tf32_split(v, b_big[k][n], b_small[k][n]); });
    }
};

// sgemm_tc_tile: a BM x BM output tile (BM = 128 or 64), 256 threads as 8
// warps in 2 (m) x 4 (n), each warp a (BM/2) x (BM/4) tile of MI x NJ
// m16n8k8 products (4 x 4, or 2 x 2), each of those three tensor-core
// instructions (3xTF32 above). Operands come through the SgemmStager
// pipeline; PRESPLIT says where they are split:
//   false: staged as float32, split as each warp reads its fragments (each
//     A element by the 4 warps that read it, each B element by 2): at BM =
//     128, 24 splits per thread per 8 k;
//   true: split once as the stage is stored, the two parts in planes of
//     their own: at BM = 128, 4 splits per thread per 8 k, twice the
//     shared-memory reads.
// Which is faster depends on whether issue slots or shared memory run out
// first; the autotuner times each ("tc", "tcs", "tc64", "tcs64").
template <int BM, bool PRESPLIT>
__device__ __forceinline__ void sgemm_tc_tile(const GemmParams& p, const float* __restrict__ A,
                                              const float* __restrict__ B, float* __restrict__ C)
{
    constexpr int BK = TcStage<BM, PRESPLIT>::BK;
    constexpr int MI = BM / 32, NJ = BM / 32; // m16 and n8 products per warp
    __shared__ __align__(16) TcStage<BM, PRESPLIT> stage[2];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, q = lane & 3;
    const int wm = (warp & 1) * (BM / 2), wn = (warp >> 1) * (BM / 4); // the warp's tile within the block's
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BM;
    sgemm_to_batch(p, A, B, C);
    SgemmStager<BM, BK, TC_PAD> st(p, A, B, m0, n0, tid);

    float acc[MI][NJ][4]; // [m16 tile][n8 tile][fragment]
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int j = 0; j < NJ; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

    const int nk = (p.K + BK - 1) / BK;
    for (int t = -1; t < nk; t++) {
        if (t + 1 < nk) st.fetch(p, t + 1);
        if (t >= 0) {
            const TcStage<BM, PRESPLIT>& sg = stage[t & 1];
#pragma unroll
            for (int k8 = 0; k8 < BK; k8 += 8) {
                unsigned bb[NJ][2], bs[NJ][2]; // B fragments of the n8 tiles: big, small
#pragma unroll
                for (int j = 0; j < NJ; j++) {
                    const int n = wn + 8 * j + g;
                    sg.b_parts(k8 + q, n, bb[j][0], bs[j][0]);
                    sg.b_parts(k8 + q + 4, n, bb[j][1], bs[j][1]);
                }
#pragma unroll
                for (int i = 0; i < MI; i++) {
                    const int m = wm + 16 * i + g;
                    unsigned ab[4], as[4];
                    sg.a_parts(k8 + q, m, ab[0], as[0]);
                    sg.a_parts(k8 + q, m + 8, ab[1], as[1]);
                    sg.a_parts(k8 + q + 4, m, ab[2], as[2]);
                    sg.a_parts(k8 + q + 4, m + 8, ab[3], as[3]);
#pragma unroll
                    for (int j = 0; j < NJ; j++) {
                        mma_tf32_16x8x8(acc[i][j], as, bb[j]);
                        mma_tf32_16x8x8(acc[i][j], ab, bs[j]);
                        mma_tf32_16x8x8(acc[i][j], ab, bb[j]);
                    }
                }
            }
        }
        if (t + 1 < nk) stage[(t + 1) & 1].store(st);
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int h = 0; h < 2; h++) { // rows g and g + 8 of the m16 tile
            const int m = m0 + wm + 16 * i + g + 8 * h;
            if (m >= p.M) continue;
#pragma unroll
            for (int j = 0; j < NJ; j++)
#pragma unroll
                for (int e = 0; e < 2; e++) sgemm_put(p, C, m, n0 + wn + 8 * j + 2 * q + e, acc[i][j][2 * h + e]);
        }
}

// sgemm_tc128_f32, sgemm_tcs128_f32, sgemm_tc64_f32, sgemm_tcs64_f32: the
// tensor-core tiles, split as the fragments are read or as the stage is
// stored. Need sm_80 (cuda.SgemmKernel.MinCC).
//   Launch: block 256, grid (ceil(N/BM), ceil(M/BM), batch).
extern "C" __global__ void __launch_bounds__(256, 2)
sgemm_tc128_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tc_tile<128, false>(p, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 2)
sgemm_tcs128_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tc_tile<128, true>(p, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 3)
sgemm_tc64_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tc_tile<64, false>(p, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 3)
sgemm_tcs64_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    sgemm_tc_tile<64, true>(p, A, B, C);
}

#define GS 16

extern "C" __global__ void __launch_bounds__(256)
sgemm_small_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    __shared__ float As[GS][GS + 1]; // As[m][k]
    __shared__ float Bs[GS][GS + 1]; // Bs[k][n]
    sgemm_to_batch(p, A, B, C);
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int m = blockIdx.y * GS + ty, n = blockIdx.x * GS + tx;
    // Loads use (ty, tx) -> rows of the tile; with unit stride along k for A
    // the tx-fast mapping reads consecutive addresses.
    float acc = 0.0f;
    for (int k0 = 0; k0 < p.K; k0 += GS) {
        int am = blockIdx.y * GS + ty, ak = k0 + tx;
        As[ty][tx] = (am < p.M && ak < p.K) ? A[am * p.a_row + ak * p.a_col] : 0.0f;
        int bk = k0 + ty, bn = blockIdx.x * GS + tx;
        Bs[ty][tx] = (bk < p.K && bn < p.N) ? B[bk * p.b_row + bn * p.b_col] : 0.0f;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GS; kk++) acc = fmaf(As[ty][kk], Bs[kk][tx], acc);
        __syncthreads();
    }
    sgemm_put(p, C, m, n, acc);
}

// sgemm_skinny_f32: few rows (the fully-connected layers at batch 16: M = 16,
// N = 512, K = 512 or 8192). sgemm_small_f32 walks K in steps of 16 with a
// block-wide barrier and a global load's latency each, so at K = 512 it waits
// ~32 latencies per call (51 us a call on average in an H100's training
// step). Here a block of 8 warps computes a 16 x 32 tile: a lane is a column,
// each warp takes every 8th chunk of SKINNY_KC k, and the 8 partial tiles are
// summed through shared memory at the end. A warp stages its chunk of A
// (16 x SKINNY_KC, k-major) in its own shared-memory slice, issues its B loads
// for the chunk together, then does 16 multiply-adds per k against
// broadcast reads of A; only __syncwarp inside the K loop.
//   Launch: block 256, grid (ceil(N/32), ceil(M/16), batch).
#define SKINNY_M 16
#define SKINNY_WARPS 8
#define SKINNY_KC 32
extern "C" __global__ void __launch_bounds__(256)
sgemm_skinny_f32(GemmParams p, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)
{
    // As[w][k][m], rows padded from 16 to 20 floats (float4 reads stay
    // aligned): the chunk is stored with lane = k, which with 16-float rows
    // put every lane's store of one m in the same two banks (16-way
    // conflicts), with 20 in eight (4-way).
    __shared__ __align__(16) float As[SKINNY_WARPS][SKINNY_KC][SKINNY_M + 4];
    __shared__ float part[SKINNY_WARPS][SKINNY_M][32];
    sgemm_to_batch(p, A, B, C);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int m0 = blockIdx.y * SKINNY_M, n = blockIdx.x * 32 + lane;
    const bool okn = n < p.N;
    // B transposed with its columns 16-byte aligned: the lanes' columns are
    // K apart, so one float per load would touch 32 lines per instruction
    // for each of a chunk's 32 k; four per load cut that to 8 instructions.
    const bool bk4 = p.b_row == 1 && (p.b_col & 3) == 0 && ((unsigned long long)B & 15) == 0;
    float acc[SKINNY_M];
#pragma unroll
    for (int m = 0; m < SKINNY_M; m++) acc[m] = 0.0f;
    for (int k0 = warp * SKINNY_KC; k0 < p.K; k0 += SKINNY_WARPS * SKINNY_KC) {
        // A's chunk: element i*32 + lane is (m, kk) = divmod(i*32 + lane, KC),
        // so consecutive lanes read consecutive k (coalesced when a_col = 1).
#pragma unroll
        for (int i = 0; i < SKINNY_M * SKINNY_KC / 32; i++) {
            const int e = i * 32 + lane, m = e / SKINNY_KC, kk = e % SKINNY_KC;
            const int am = m0 + m, ak = k0 + kk;
            As[warp][kk][m] = (am < p.M && ak < p.K) ? A[am * (int)p.a_row + ak * (int)p.a_col] : 0.0f;
        }
        float b[SKINNY_KC];
        if (bk4 && okn && k0 + SKINNY_KC <= p.K) {
            // B stored [N, K] (a fully-connected layer's weight): the lane's
            // column is contiguous along k, 8 float4s a chunk.
            const float4* col = reinterpret_cast<const float4*>(B + (n * (int)p.b_col + k0));
#pragma unroll
            for (int q = 0; q < SKINNY_KC / 4; q++) {
                const float4 v = __ldg(col + q);
                b[4 * q] = v.x, b[4 * q + 1] = v.y, b[4 * q + 2] = v.z, b[4 * q + 3] = v.w;
            }
        } else {
#pragma unroll
            for (int kk = 0; kk < SKINNY_KC; kk++) {
                const int bk = k0 + kk;
                b[kk] = (okn && bk < p.K) ? B[bk * (int)p.b_row + n * (int)p.b_col] : 0.0f;
            }
        }
        __syncwarp();
#pragma unroll
        for (int kk = 0; kk < SKINNY_KC; kk++) {
#pragma unroll
            for (int m4 = 0; m4 < SKINNY_M; m4 += 4) {
                const float4 a = *reinterpret_cast<const float4*>(&As[warp][kk][m4]);
                acc[m4] = fmaf(a.x, b[kk], acc[m4]);
                acc[m4 + 1] = fmaf(a.y, b[kk], acc[m4 + 1]);
                acc[m4 + 2] = fmaf(a.z, b[kk], acc[m4 + 2]);
                acc[m4 + 3] = fmaf(a.w, b[kk], acc[m4 + 3]);
            }
        }
        __syncwarp(); // the slice is restaged next chunk
    }
#pragma unroll
    for (int m = 0; m < SKINNY_M; m++) part[warp][m][lane] = acc[m];
    __syncthreads();
    // 512 outputs, 2 a thread: the 8 warps' partials summed in a fixed order.
#pragma unroll
    for (int j = 0; j < 2; j++) {
        const int o = j * 256 + threadIdx.x, m = o >> 5, c = o & 31;
        float v = 0.0f;
#pragma unroll
        for (int w = 0; w < SKINNY_WARPS; w++) v += part[w][m][c];
        sgemm_put(p, C, m0 + m, blockIdx.x * 32 + c, v);
    }
}
