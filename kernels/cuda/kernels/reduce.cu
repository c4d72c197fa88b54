// reduce.cu: sum / max / min / sum-of-squares reductions.
//
// Computes y[o] = scale * R_{r} x[o, r] where R is the op (RED_* below) and r
// runs over the reduced elements of output element o. scale = 1/count turns a
// sum into a mean. NaN propagates through max/min, as in torch.
//   reduce_lastdim_*: x is [rows, cols] contiguous, y is [rows].
//   reduce_strided_*: x is any strided view; RedShape lists the kept dims
//     (out_size/out_stride, row-major, y is contiguous over them) and the
//     reduced dims (red_size/red_stride). 32-bit index math.
// For one huge reduction (a loss over a whole tensor), reduce [n] as
// [n/1024, 1024] along the last dim, then again: both passes run wide.
//
// Cost per input element: 1 FLOP, 4 bytes read: memory-bound. Each kernel is
// compiled per op (RED_DISPATCH) and folds its inputs four loads at a time
// (red_loop), so that a thread has four loads in flight.
//
// Launch:
//   reduce_lastdim_f32        one warp per row: block 256 (8 rows), grid ceil(rows/8).
//                              Best for many rows.
//   reduce_lastdim_block_f32  one block per row: block 256 (power of two,
//                              multiple of 32), grid rows. Best for few long rows.
//   reduce_strided_warp_f32   one warp per output: block 256, grid ceil(n_out/8).
//                              Use when the innermost reduced dim is contiguous.
//   reduce_strided_thread_f32 one thread per output: block 256,
//                              grid ceil(n_out/256). Use when the innermost kept
//                              dim is contiguous (e.g. reducing over channels).
//   reduce_strided_block_f32  one block per output: block 256 (power of two,
//                              multiple of 32), grid n_out. For long reductions
//                              whose innermost reduced dim is contiguous (a
//                              bias gradient: sum over N, H, W keeping C). With
//                              two reduced dims it walks them as nested loops,
//                              no division per element. (A warp per output ran
//                              the [16,512,64,64] bias gradient at 3% of the copy
//                              bandwidth on an H200: 512 warps for the chip, and
//                              two divisions per element.)
//
// Entry points:
//   reduce_lastdim_f32(int op, int rows, int cols, float scale, const float* x, float* y)
//   reduce_lastdim_block_f32(int op, int rows, int cols, float scale, const float* x, float* y)
//   reduce_strided_warp_f32(int op, RedShape s, float scale, const float* x, float* y)
//   reduce_strided_thread_f32(int op, RedShape s, float scale, const float* x, float* y)
//   reduce_strided_block_f32(int op, RedShape s, float scale, const float* x, float* y)

#define RED_MAXD 8
#define RED_SUM 0
#define RED_MAX 1
#define RED_MIN 2
#define RED_SUMSQ 3

struct RedShape {
    int out_ndim, red_ndim; // kept / reduced dims, each 0..8
    int n_out, n_red;       // products of out_size / red_size
    int out_size[RED_MAXD];
    int out_stride[RED_MAXD]; // strides of x along the kept dims
    int red_size[RED_MAXD];
    int red_stride[RED_MAXD]; // strides of x along the reduced dims
    // i / size[d] == (__umulhi(i, magic[d]) + i) >> shift[d] (cuda.divMagic).
    unsigned int out_magic[RED_MAXD];
    int out_shift[RED_MAXD];
    unsigned int red_magic[RED_MAXD];
    int red_shift[RED_MAXD];
};

__device__ __forceinline__ float red_init(int op)
{
    if (op == RED_MAX) return __int_as_float(0xff800000); // -inf
    if (op == RED_MIN) return __int_as_float(0x7f800000); // +inf
    return 0.0f;
}

// red_add folds a new input v into the accumulator.
__device__ __forceinline__ float red_add(int op, float acc, float v)
{
    switch (op) {
    case RED_MAX: return (v != v || v > acc) ? v : acc;
    case RED_MIN: return (v != v || v < acc) ? v : acc;
    case RED_SUMSQ: return fmaf(v, v, acc);
    default: return acc + v;
    }
}

// red_merge combines two partial results.
__device__ __forceinline__ float red_merge(int op, float a, float b)
{
    switch (op) {
    case RED_MAX: return (b != b || b > a) ? b : a;
    case RED_MIN: return (b != b || b < a) ? b : a;
    default: return a + b;
    }
}

__device__ __forceinline__ float red_warp(int op, float v)
{
    for (int off = 16; off > 0; off >>= 1)
        v = red_merge(op, v, __shfl_xor_sync(0xffffffffu, v, off));
    return v;
}

// red_loop folds at(r) into acc for r = r0, r0 + step, ... below n, four
// loads issued before their four adds (in the same order as one at a time),
// so that a thread keeps four loads in flight. With OP a constant the op
// switch leaves the loop; with it inside, nvcc kept one load per iteration.
template <int OP, class At>
__device__ __forceinline__ float red_loop(float acc, int r0, int n, int step, const At& at)
{
    int r = r0;
    for (; r + 3 * step < n; r += 4 * step) {
        const float v0 = at(r), v1 = at(r + step), v2 = at(r + 2 * step), v3 = at(r + 3 * step);
        acc = red_add(OP, red_add(OP, red_add(OP, red_add(OP, acc, v0), v1), v2), v3);
    }
    for (; r < n; r += step) acc = red_add(OP, acc, at(r));
    return acc;
}

// RED_DISPATCH runs body<OP>(args...) for the runtime op.
#define RED_DISPATCH(op, body, ...)                                       \
    switch (op) {                                                         \
    case RED_MAX: body<RED_MAX>(__VA_ARGS__); break;                      \
    case RED_MIN: body<RED_MIN>(__VA_ARGS__); break;                      \
    case RED_SUMSQ: body<RED_SUMSQ>(__VA_ARGS__); break;                  \
    default: body<RED_SUM>(__VA_ARGS__); break;                           \
    }

// red_block_store: the block's partial results combined, y = acc * scale.
__device__ __forceinline__ void red_block_store(int op, float acc, float scale, float* __restrict__ y)
{
    __shared__ float part[32];
    acc = red_warp(op, acc);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    if (lane == 0) part[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        acc = lane < nwarps ? part[lane] : red_init(op);
        acc = red_warp(op, acc);
        if (lane == 0) *y = acc * scale;
    }
}

template <int OP>
__device__ __forceinline__ void reduce_lastdim(int rows, int cols, float scale, const float* __restrict__ x,
                                               float* __restrict__ y)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return; // whole warps leave together
    const float* xr = x + (long long)row * cols;
    float acc = red_loop<OP>(red_init(OP), lane, cols, 32, [&](int c) { return xr[c]; });
    acc = red_warp(OP, acc);
    if (lane == 0) y[row] = acc * scale;
}

template <int OP>
__device__ __forceinline__ void reduce_lastdim_block(int rows, int cols, float scale, const float* __restrict__ x,
                                                     float* __restrict__ y)
{
    const int row = blockIdx.x;
    if (row >= rows) return;
    const float* xr = x + (long long)row * cols;
    red_block_store(OP, red_loop<OP>(red_init(OP), threadIdx.x, cols, blockDim.x, [&](int c) { return xr[c]; }), scale,
                    y + row);
}

extern "C" __global__ void reduce_lastdim_f32(int op, int rows, int cols, float scale,
                                              const float* __restrict__ x, float* __restrict__ y)
{
    RED_DISPATCH(op, reduce_lastdim, rows, cols, scale, x, y)
}

extern "C" __global__ void reduce_lastdim_block_f32(int op, int rows, int cols, float scale,
                                                    const float* __restrict__ x, float* __restrict__ y)
{
    RED_DISPATCH(op, reduce_lastdim_block, rows, cols, scale, x, y)
}

// red_offset maps a linear index over (size, stride) dims to an offset in x,
// dividing by multiply-high (magic, shift: see RedShape).
__device__ __forceinline__ int red_offset(int i, int ndim, const int* size, const int* stride,
                                          const unsigned int* magic, const int* shift)
{
    int off = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        const int q = (int)((__umulhi((unsigned)i, magic[d]) + (unsigned)i) >> shift[d]);
        off += (i - q * size[d]) * stride[d];
        i = q;
    }
    return off;
}

#define RED_OUT(s) s.out_size, s.out_stride, s.out_magic, s.out_shift
#define RED_RED(s) s.red_size, s.red_stride, s.red_magic, s.red_shift

// red_strided: acc folded over output o's reduced elements r0, r0 + step,
// ... (xo: o's first element).
template <int OP>
__device__ __forceinline__ float red_strided(const RedShape& s, const float* __restrict__ xo, int r0, int step)
{
    if (s.red_ndim == 1) {
        const int st = s.red_stride[0];
        return red_loop<OP>(red_init(OP), r0, s.n_red, step, [&](int r) { return xo[r * st]; });
    }
    return red_loop<OP>(red_init(OP), r0, s.n_red, step,
                        [&](int r) { return xo[red_offset(r, s.red_ndim, RED_RED(s))]; });
}

template <int OP>
__device__ __forceinline__ void reduce_strided_warp(const RedShape& s, float scale, const float* __restrict__ x,
                                                    float* __restrict__ y)
{
    const int lane = threadIdx.x & 31;
    const int o = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (o >= s.n_out) return;
    const float acc = red_warp(OP, red_strided<OP>(s, x + red_offset(o, s.out_ndim, RED_OUT(s)), lane, 32));
    if (lane == 0) y[o] = acc * scale;
}

template <int OP>
__device__ __forceinline__ void reduce_strided_thread(const RedShape& s, float scale, const float* __restrict__ x,
                                                      float* __restrict__ y)
{
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= s.n_out) return;
    y[o] = red_strided<OP>(s, x + red_offset(o, s.out_ndim, RED_OUT(s)), 0, 1) * scale;
}

template <int OP>
__device__ __forceinline__ void reduce_strided_block(const RedShape& s, float scale, const float* __restrict__ x,
                                                     float* __restrict__ y)
{
    const int o = blockIdx.x;
    if (o >= s.n_out) return;
    const float* xo = x + red_offset(o, s.out_ndim, RED_OUT(s));
    float acc;
    if (s.red_ndim == 2 && s.red_size[1] >= (int)blockDim.x) {
        // Two reduced dims as nested loops: no division per element.
        acc = red_init(OP);
        const int st = s.red_stride[1];
        for (int a = 0; a < s.red_size[0]; a++) {
            const float* xa = xo + a * s.red_stride[0];
            acc = red_loop<OP>(acc, threadIdx.x, s.red_size[1], blockDim.x, [&](int b) { return xa[b * st]; });
        }
    } else {
        acc = red_strided<OP>(s, xo, threadIdx.x, blockDim.x);
    }
    red_block_store(OP, acc, scale, y + o);
}

extern "C" __global__ void reduce_strided_warp_f32(int op, RedShape s, float scale,
                                                   const float* __restrict__ x, float* __restrict__ y)
{
    RED_DISPATCH(op, reduce_strided_warp, s, scale, x, y)
}

extern "C" __global__ void reduce_strided_thread_f32(int op, RedShape s, float scale,
                                                     const float* __restrict__ x, float* __restrict__ y)
{
    RED_DISPATCH(op, reduce_strided_thread, s, scale, x, y)
}

extern "C" __global__ void reduce_strided_block_f32(int op, RedShape s, float scale,
                                                    const float* __restrict__ x, float* __restrict__ y)
{
    RED_DISPATCH(op, reduce_strided_block, s, scale, x, y)
}
