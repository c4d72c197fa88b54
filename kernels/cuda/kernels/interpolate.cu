// interpolate.cu: bicubic resizing of the last two dims and its adjoint.
//
// F.interpolate(mode='bicubic', align_corners=False), no antialias, as
// kernels/cpu's BicubicTable: along an axis of length in resized to out,
//   scale = in/out (float32), src = scale*(j+0.5) - 0.5 (not clamped),
//   i0 = min(floor(src), in-1), t = clamp(src - i0, 0, 1),
//   y[j] = sum_k w_k(t) * x[clamp(i0-1+k, 0, in-1)], k = 0..3,
//   w = (far(t+1), near(t), near(1-t), far(2-t)), Keys kernel with A = -0.75.
// The 2-D resize is separable: one launch per axis, through a contiguous
// intermediate (the tensor layer picks the order with the smaller one, as
// the CPU does, so both round alike).
//
// A launch resamples ONE axis of a source [planes, in_h, in_w] read through
// strides (s_plane, s_h, s_w) in elements, so that a cropped view
// (autograd.Narrow) is read in place, into [planes, out_h, out_w] written
// through strides (d_plane, d_h, 1), so that a window of a larger buffer is
// written in place (the crop-and-resize's adjoint, tensor.CropResizeBicubic):
//   axis = 0: H is resampled (in_w == out_w);  axis = 1: W (in_h == out_h).
// resize_bicubic_f32 maps in -> out along the axis with the table (in, out).
// resize_bicubic_adj_f32 is its transpose: the source is a gradient along the
// table's OUT side, the destination its IN side, i.e. the table is (out, in)
// of this launch's lengths: dx[i] = sum_{j,k: clamp(i0_j-1+k) = i} w_k(t_j) * g[j].
// The adjoint is a gather per destination element, not a scatter with
// atomics: no zeroing pass, no atomic traffic, and a deterministic sum (the
// same every run, which R1 and path-length gradients are compared against).
// Every j whose taps can reach i lies in
//   [floor((i-1.5)*out/in - 0.5) - 1, ceil((i+2.5)*out/in - 0.5) + 1] ∩ [0, out-1]
// (taps reach i when floor(src_j) is in [i-2, i+1]; the border rows also take
// the clamped taps, which the range contains; +-1 absorbs rounding), and each
// such j's taps are recomputed exactly as in the forward and kept where they
// land on i. cuda.BicubicAdjointRange is this range in Go, checked against
// the CPU table for all small sizes.
//
// Cost per output element: forward 4 FMAs + the weights (~20 FLOPs), reads 4
// source values, writes 1; adjoint about (4*out/in + 4) candidate j's, each
// ~25 FLOPs, and reads one value per j. Memory-bound for the CLIP resize
// (a crop of 32..63 pixels to 224: 4 - 7x up per axis).
//
// Launch: block 256, grid min(ceil(planes*out_h*out_w/256), 32*SMs); grid-stride.
//
// Entry points:
//   resize_bicubic_f32(ResizeParams p, const float* x, float* y)
//   resize_bicubic_adj_f32(ResizeParams p, const float* g, float* y)

struct ResizeParams {
    int planes;          // product of the leading dims
    int in_h, in_w;      // source of this launch
    int out_h, out_w;    // destination, contiguous
    int axis;            // 0: resample H, 1: resample W
    int s_plane, s_h, s_w; // source strides, elements
    int d_plane, d_h;      // destination strides, elements (unit along W)
};

__device__ __forceinline__ float rs_near(float x) { return ((-0.75f + 2.0f) * x - (-0.75f + 3.0f)) * x * x + 1.0f; }
__device__ __forceinline__ float rs_far(float x)
{
    return ((-0.75f * x - 5.0f * -0.75f) * x + 8.0f * -0.75f) * x - 4.0f * -0.75f;
}

// rs_taps fills the four clamped source indices and weights of output j of
// the table (in, out). The source coordinate is rounded op by op (no FMA
// contraction), as the CPU computes it, so that both pick the same taps.
__device__ __forceinline__ void rs_taps(int in, int out, int j, int idx[4], float w[4])
{
    const float scale = (float)in / (float)out;
    const float src = __fadd_rn(__fmul_rn(scale, __fadd_rn((float)j, 0.5f)), -0.5f);
    const int i0 = min((int)floorf(src), in - 1);
    const float t = fminf(fmaxf(src - (float)i0, 0.0f), 1.0f);
    w[0] = rs_far(t + 1.0f);
    w[1] = rs_near(t);
    w[2] = rs_near(1.0f - t);
    w[3] = rs_far(2.0f - t);
#pragma unroll
    for (int k = 0; k < 4; k++) idx[k] = min(max(i0 - 1 + k, 0), in - 1);
}

// rs_locate splits destination element e into (plane, row, column) and
// returns the source offset of its first element along the axis together
// with the axis stride, the position along the axis and the destination
// offset.
__device__ __forceinline__ long long rs_locate(const ResizeParams& p, long long e, long long& step, int& pos, long long& dst)
{
    const int ox = (int)(e % p.out_w);
    const long long r = e / p.out_w;
    const int oy = (int)(r % p.out_h);
    const long long plane = r / p.out_h;
    const long long base = plane * p.s_plane;
    dst = plane * p.d_plane + (long long)oy * p.d_h + ox;
    if (p.axis == 0) {
        step = p.s_h;
        pos = oy;
        return base + (long long)ox * p.s_w;
    }
    step = p.s_w;
    pos = ox;
    return base + (long long)oy * p.s_h;
}

extern "C" __global__ void resize_bicubic_f32(ResizeParams p, const float* __restrict__ x, float* __restrict__ y)
{
    const int in = p.axis == 0 ? p.in_h : p.in_w, out = p.axis == 0 ? p.out_h : p.out_w;
    const long long total = (long long)p.planes * p.out_h * p.out_w;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        long long step, dst;
        int j;
        const long long base = rs_locate(p, e, step, j, dst);
        int idx[4];
        float w[4];
        rs_taps(in, out, j, idx, w);
        float acc = 0.0f;
#pragma unroll
        for (int k = 0; k < 4; k++) acc = fmaf(w[k], x[base + idx[k] * step], acc);
        y[dst] = acc;
    }
}

extern "C" __global__ void resize_bicubic_adj_f32(ResizeParams p, const float* __restrict__ g, float* __restrict__ y)
{
    // The forward table maps n_in (this launch's destination length) to
    // n_out (its source length).
    const int n_in = p.axis == 0 ? p.out_h : p.out_w, n_out = p.axis == 0 ? p.in_h : p.in_w;
    const float r = (float)n_out / (float)n_in;
    const long long total = (long long)p.planes * p.out_h * p.out_w;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        long long step, dst;
        int i;
        const long long base = rs_locate(p, e, step, i, dst);
        const int lo = max((int)floorf(((float)i - 1.5f) * r - 0.5f) - 1, 0);
        const int hi = min((int)ceilf(((float)i + 2.5f) * r - 0.5f) + 1, n_out - 1);
        float acc = 0.0f;
        for (int j = lo; j <= hi; j++) {
            int idx[4];
            float w[4];
            rs_taps(n_in, n_out, j, idx, w);
            float wi = 0.0f;
            bool hit = false;
#pragma unroll
            for (int k = 0; k < 4; k++) {
                if (idx[k] == i) {
                    wi += w[k];
                    hit = true;
                }
            }
            // A tap of weight 0 still counts, so that a non-finite gradient propagates as on the CPU.
            if (hit) acc = fmaf(wi, g[base + (long long)j * step], acc);
        }
        y[dst] = acc;
    }
}
