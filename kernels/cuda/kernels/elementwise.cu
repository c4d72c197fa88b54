// elementwise.cu: unary and binary elementwise maps, with broadcasting.
//
// Computes y[i] = op(x[i]; alpha, beta) (unary) and out[i] = op(a[i], b[i])
// (binary) for every output element i. The *_strided entry points address each
// operand through its own strides (in elements; 0 along a broadcast dim), so
// broadcasting, transposed and sliced views need no copy, and a strided unary
// COPY is the "make contiguous" kernel. The contiguous entry points assume
// dense operands of n elements. Pass pointers already advanced by the view's
// offset. The strided index math is 32-bit: fewer than 2^31 elements.
//
// Cost per element: 1 FLOP (transcendental ops: ~10-20), 8 bytes (unary) or 12
// bytes (binary; where: 16) of DRAM traffic: memory-bound, floor = bytes / bandwidth.
//
// Launch: 1-D, block 256, grid min(ceil(n/256), 32*SMs); grid-stride loops make
// any grid correct. Each step of the loop takes EW_UNROLL elements, their
// loads before their stores (ew_grid_stride).
//
// Entry points (op codes: EW_* below, mirrored in params.go):
//   ew_unary_f32(int op, long long n, float alpha, float beta, const float* x, float* y)
//   ew_unary_strided_f32(int op, EwShape s, float alpha, float beta, const float* x, float* y)
//       s.a: strides of x, s.o: strides of y, s.b unused
//   ew_binary_f32(int op, long long n, const float* a, const float* b, float* out)
//   ew_binary_strided_f32(int op, EwShape s, const float* a, const float* b, float* out)
//   ew_where_strided_f32(EwShape s, const float* c, const float* a, const float* b, float* out)
//       out = c != 0 ? a : b; c is laid out like the output (addressed with s.o)
//   ew_binary_rows_f32(int op, EwRows p, const float* a, const float* v, float* out)
//   ew_binary_rows4_f32(int op, EwRows p, const float* a, const float* v, float* out)
//       out[r][j] = op(a[r][j], v[r]) (op(v[r], a[r][j]) with p.left) for a
//       and out dense [rows, cols]: one value per row of the other operand,
//       the commonest broadcast in the StyleGAN layers (x times a style or
//       a demodulation coefficient per (sample, channel) plane; the
//       gradients' reverse). Units of 1 float, or of 4 (rows4: cols and
//       the pointers 16-byte aligned); p.n and p.cols count units, p.magic
//       and p.shift divide by p.cols. The strided kernel spent a 2-dim index
//       decomposition per element on it (46% of the copy bandwidth on the H100
//       for [16,512,64,64] + [512,1,1]).

#define EW_MAXD 8

struct EwRows {
    long long n;        // units (floats, or float4s for rows4) of a and out
    int cols;           // units per row
    unsigned int magic; // q / cols == (__umulhi(q, magic) + q) >> shift
    int shift;
    int left;           // 1: the per-row value is op's left operand
};

struct EwShape {
    int ndim;          // 1..8, row-major: dim ndim-1 is the fastest
    int pad_;
    long long n;       // output elements: product of size[0..ndim)
    int size[EW_MAXD]; // output shape
    int a[EW_MAXD];    // strides of operand a (or x)
    int b[EW_MAXD];    // strides of operand b
    int o[EW_MAXD];    // strides of the output
    // r / size[d] == (__umulhi(r, magic[d]) + r) >> shift[d] for 0 <= r < 2^31
    // (cuda.divMagic): no division instruction per dim and element.
    unsigned int magic[EW_MAXD];
    int shift[EW_MAXD];
};

// ew_digit: the coordinate of flat index r along dim d, r becoming the
// index over the dims before d.
__device__ __forceinline__ int ew_digit(const EwShape& s, int d, int& r)
{
    const int q = (int)((__umulhi((unsigned)r, s.magic[d]) + (unsigned)r) >> s.shift[d]);
    const int c = r - q * s.size[d];
    r = q;
    return c;
}

// Unary ops. alpha/beta are op parameters (unused by most).
#define EW_COPY 0
#define EW_NEG 1
#define EW_ABS 2
#define EW_EXP 3
#define EW_LOG 4
#define EW_SQRT 5
#define EW_RSQRT 6
#define EW_SIN 7
#define EW_COS 8
#define EW_TANH 9
#define EW_SIGMOID 10
#define EW_RELU 11
#define EW_SQUARE 12
#define EW_RECIP 13
#define EW_SIGN 14
#define EW_AFFINE 15     // alpha*x + beta
#define EW_POW 16        // x^alpha
#define EW_LRELU 17      // x > 0 ? x : alpha*x
#define EW_CLAMP 18      // min(max(x, alpha), beta)
#define EW_NAN_TO_NUM 19 // NaN -> 0, +-inf -> +-FLT_MAX (torch.nan_to_num defaults)
#define EW_FLOOR 20
#define EW_CEIL 21
#define EW_SOFTPLUS 22   // log(1 + exp(x)), stable
#define EW_GELU 23       // 0.5 x (1 + erf(x / sqrt 2))
#define EW_QUICKGELU 24  // x * sigmoid(1.702 x) (CLIP)
#define EW_ERF 25
#define EW_STEP 26       // x > 0 ? 1 : 0
#define EW_GELU_TANH 27  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
#define EW_IN_RANGE 28   // alpha <= x <= beta ? 1 : 0
#define EW_NAN_TO 29     // NaN -> alpha
#define EW_INF_TO 30     // +inf -> alpha, -inf -> beta
#define EW_IS_FINITE 31  // 1 for finite x, 0 for NaN and +-inf

// Binary ops. Comparisons give 1.0 or 0.0.
#define EW_ADD 0
#define EW_SUB 1
#define EW_MUL 2
#define EW_DIV 3
#define EW_MAX 4
#define EW_MIN 5
#define EW_POWB 6
#define EW_EQ 7
#define EW_NE 8
#define EW_LT 9
#define EW_LE 10
#define EW_GT 11
#define EW_GE 12

#define EW_FLT_MAX 3.402823466e+38f

__device__ __forceinline__ float ew_unary(int op, float x, float alpha, float beta)
{
    switch (op) {
    case EW_COPY: return x;
    case EW_NEG: return -x;
    case EW_ABS: return fabsf(x);
    case EW_EXP: return expf(x);
    case EW_LOG: return logf(x);
    case EW_SQRT: return sqrtf(x);
    case EW_RSQRT: return rsqrtf(x);
    case EW_SIN: return sinf(x);
    case EW_COS: return cosf(x);
    case EW_TANH: return tanhf(x);
    case EW_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case EW_RELU: return x > 0.0f ? x : 0.0f;
    case EW_SQUARE: return x * x;
    case EW_RECIP: return 1.0f / x;
    case EW_SIGN: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case EW_AFFINE: return fmaf(alpha, x, beta);
    case EW_POW: return powf(x, alpha);
    case EW_LRELU: return x > 0.0f ? x : alpha * x;
    case EW_CLAMP: return x != x ? x : fminf(fmaxf(x, alpha), beta); // NaN stays NaN, as torch.clamp
    case EW_NAN_TO_NUM:
        if (x != x) return 0.0f;
        if (x > EW_FLT_MAX) return EW_FLT_MAX;
        if (x < -EW_FLT_MAX) return -EW_FLT_MAX;
        return x;
    case EW_FLOOR: return floorf(x);
    case EW_CEIL: return ceilf(x);
    case EW_SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case EW_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case EW_QUICKGELU: return x / (1.0f + expf(-1.702f * x));
    case EW_ERF: return erff(x);
    case EW_STEP: return x > 0.0f ? 1.0f : 0.0f;
    case EW_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * fmaf(0.044715f * x, x * x, x)));
    case EW_IN_RANGE: return (x >= alpha && x <= beta) ? 1.0f : 0.0f;
    case EW_NAN_TO: return x != x ? alpha : x;
    case EW_INF_TO: return x > EW_FLT_MAX ? alpha : (x < -EW_FLT_MAX ? beta : x);
    case EW_IS_FINITE: return (x - x == 0.0f) ? 1.0f : 0.0f;
    }
    return __int_as_float(0x7fc00000); // unknown op: NaN, so the mistake shows
}

__device__ __forceinline__ float ew_binary(int op, float a, float b)
{
    switch (op) {
    case EW_ADD: return a + b;
    case EW_SUB: return a - b;
    case EW_MUL: return a * b;
    case EW_DIV: return a / b;
    case EW_MAX: return (a != a || a > b) ? a : b; // NaN propagates, as in torch
    case EW_MIN: return (a != a || a < b) ? a : b;
    case EW_POWB: return powf(a, b);
    case EW_EQ: return a == b ? 1.0f : 0.0f;
    case EW_NE: return a != b ? 1.0f : 0.0f;
    case EW_LT: return a < b ? 1.0f : 0.0f;
    case EW_LE: return a <= b ? 1.0f : 0.0f;
    case EW_GT: return a > b ? 1.0f : 0.0f;
    case EW_GE: return a >= b ? 1.0f : 0.0f;
    }
    return __int_as_float(0x7fc00000);
}

// ew_grid_stride runs a grid-stride loop over i < n, EW_UNROLL indices at a
// time: load(i, u) for all of them, then store(i, u), so that a thread has
// EW_UNROLL elements' loads in flight rather than one (with one, a whole
// chip's worth of threads keeps too few bytes in flight to reach the copy
// bandwidth). u is a constant once unrolled, so the caller's per-slot arrays
// stay in registers.
#define EW_UNROLL 4
template <class Load, class Store>
__device__ __forceinline__ void ew_grid_stride(long long n, const Load& load, const Store& store)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + (EW_UNROLL - 1) * stride < n; i += EW_UNROLL * stride) {
#pragma unroll
        for (int u = 0; u < EW_UNROLL; u++) load(i + u * stride, u);
#pragma unroll
        for (int u = 0; u < EW_UNROLL; u++) store(i + u * stride, u);
    }
    for (; i < n; i += stride) {
        load(i, 0);
        store(i, 0);
    }
}

// ew_offsets: the offsets of flat output index i in operands a, b and the
// output.
__device__ __forceinline__ void ew_offsets(const EwShape& s, int i, int& ao, int& bo, int& oo)
{
    int r = i;
    ao = bo = oo = 0;
    for (int d = s.ndim - 1; d >= 0; d--) {
        const int c = ew_digit(s, d, r);
        ao += c * s.a[d];
        bo += c * s.b[d];
        oo += c * s.o[d];
    }
}

extern "C" __global__ void ew_unary_f32(int op, long long n, float alpha, float beta,
                                        const float* __restrict__ x, float* __restrict__ y)
{
    float v[EW_UNROLL];
    ew_grid_stride(n, [&](long long i, int u) { v[u] = x[i]; },
                   [&](long long i, int u) { y[i] = ew_unary(op, v[u], alpha, beta); });
}

extern "C" __global__ void ew_unary_strided_f32(int op, EwShape s, float alpha, float beta,
                                                const float* __restrict__ x, float* __restrict__ y)
{
    float v[EW_UNROLL];
    int yo[EW_UNROLL];
    ew_grid_stride(s.n, [&](long long i, int u) {
            int xo, unused;
            ew_offsets(s, (int)i, xo, unused, yo[u]);
            v[u] = x[xo];
        },
        [&](long long, int u) { y[yo[u]] = ew_unary(op, v[u], alpha, beta); });
}

extern "C" __global__ void ew_binary_f32(int op, long long n, const float* __restrict__ a,
                                         const float* __restrict__ b, float* __restrict__ out)
{
    float va[EW_UNROLL], vb[EW_UNROLL];
    ew_grid_stride(n, [&](long long i, int u) { va[u] = a[i], vb[u] = b[i]; },
                   [&](long long i, int u) { out[i] = ew_binary(op, va[u], vb[u]); });
}

extern "C" __global__ void ew_binary_strided_f32(int op, EwShape s, const float* __restrict__ a,
                                                 const float* __restrict__ b, float* __restrict__ out)
{
    float va[EW_UNROLL], vb[EW_UNROLL];
    int oo[EW_UNROLL];
    ew_grid_stride(s.n, [&](long long i, int u) {
            int ao, bo;
            ew_offsets(s, (int)i, ao, bo, oo[u]);
            va[u] = a[ao], vb[u] = b[bo];
        },
        [&](long long, int u) { out[oo[u]] = ew_binary(op, va[u], vb[u]); });
}

// ew_rows_at: the row of unit q.
__device__ __forceinline__ int ew_rows_at(const EwRows& p, long long q)
{
    const unsigned u = (unsigned)q;
    return (int)((__umulhi(u, p.magic) + u) >> p.shift);
}

extern "C" __global__ void ew_binary_rows_f32(int op, EwRows p, const float* __restrict__ a,
                                              const float* __restrict__ v, float* __restrict__ out)
{
    float va[EW_UNROLL], vv[EW_UNROLL];
    ew_grid_stride(p.n, [&](long long i, int u) { va[u] = a[i], vv[u] = v[ew_rows_at(p, i)]; },
                   [&](long long i, int u) { out[i] = p.left ? ew_binary(op, vv[u], va[u]) : ew_binary(op, va[u], vv[u]); });
}

extern "C" __global__ void ew_binary_rows4_f32(int op, EwRows p, const float* __restrict__ a,
                                               const float* __restrict__ v, float* __restrict__ out)
{
    float4 va[EW_UNROLL];
    float vv[EW_UNROLL];
    const float4* a4 = reinterpret_cast<const float4*>(a);
    float4* o4 = reinterpret_cast<float4*>(out);
    ew_grid_stride(p.n, [&](long long i, int u) { va[u] = a4[i], vv[u] = v[ew_rows_at(p, i)]; },
                   [&](long long i, int u) {
                       const float4 x = va[u];
                       const float s = vv[u];
                       o4[i] = p.left ? make_float4(ew_binary(op, s, x.x), ew_binary(op, s, x.y), ew_binary(op, s, x.z), ew_binary(op, s, x.w))
                                      : make_float4(ew_binary(op, x.x, s), ew_binary(op, x.y, s), ew_binary(op, x.z, s), ew_binary(op, x.w, s));
                   });
}

extern "C" __global__ void ew_where_strided_f32(EwShape s, const float* __restrict__ c, const float* __restrict__ a,
                                                const float* __restrict__ b, float* __restrict__ out)
{
    float vc[EW_UNROLL], va[EW_UNROLL], vb[EW_UNROLL];
    int oo[EW_UNROLL];
    ew_grid_stride(s.n, [&](long long i, int u) {
            int ao, bo;
            ew_offsets(s, (int)i, ao, bo, oo[u]);
            vc[u] = c[oo[u]], va[u] = a[ao], vb[u] = b[bo];
        },
        [&](long long, int u) { out[oo[u]] = vc[u] != 0.0f ? va[u] : vb[u]; });
}
