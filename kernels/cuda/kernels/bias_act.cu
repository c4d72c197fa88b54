// bias_act.cu: StyleGAN2's fused bias + activation + gain + clamp, and its
// gradients (REFERENCE.md section 1; mirrors the reference bias_act kernel).
//
// grad = 0 (forward):   y = clamp(act(x + b) * gain, -clamp, clamp)
//                       (NaN maps to -clamp; no clamp when clamp < 0)
// grad = 1 (first order): x is dy, xref the forward input (without bias),
//   yref the forward output; y = dx = dy * act'(xref + b) * gain, and 0 where
//   yref is not strictly inside (-clamp, clamp). relu/lrelu/tanh/sigmoid/elu/
//   selu/softplus take act' from yref/gain (the saved output), swish from xref.
// grad = 2 (second order): x is d(dx), dy the first-order upstream gradient;
//   y = d(dx) * act''(.) * gain * dy, the term w.r.t. x. linear/relu/lrelu have
//   act'' = 0: their second-order path re-applies grad = 1 to d(dx) instead.
// grad = 3 (first order from the input alone; the engine's host convention,
//   autograd of the reference's plain torch ops): x is dy, xref the forward
//   input; with s = xref + b, y = dy * gain * act'(s) where
//   -clamp <= act(s) * gain <= clamp before clamping (inclusive), else 0.
//   relu/lrelu branch on s > 0, elu/selu on s <= 0, softplus is 1 above 20,
//   and swish is masked like the rest (the reference kernel never masks it).
//   One pass: no saved output needed (yref may be null).
// b broadcasts: element e uses b[(e / step_b) % size_b] (NCHW, dim 1:
// step_b = H*W, size_b = C). b, xref, yref, dy may be null (0, 0, 0, 1).
// db is a reduction of dx over every dim but the bias dim (reduce.cu).
//
// act: 1 linear, 2 relu, 3 lrelu, 4 tanh, 5 sigmoid, 6 elu, 7 selu,
//      8 softplus, 9 swish (the reference numbering). alpha is lrelu's slope.
//
// Cost per element: 2-20 FLOPs (tanh/sigmoid/softplus/swish: 1 exp);
// 8 bytes forward (x, y), 16 bytes first order (dy, xref or yref, dx; 12 for
// grad = 3: dy, xref, dx): memory-bound.
//
// Launch: block 256, grid min(ceil(size_x/4/256), 32*SMs); grid-stride. When
// size_x % 4 == 0 and every pointer is 16-byte aligned, each thread moves
// float4s (the path taken for any tensor from the allocator).
//
// Entry point:
//   bias_act_f32(BiasActParams p, const float* x, const float* b, const float* xref,
//                const float* yref, const float* dy, float* y)

struct BiasActParams {
    int act;    // 1..9, see above
    int grad;   // 0, 1, 2, 3
    float alpha;
    float gain;
    float clamp; // < 0: no clamp
    int size_x;  // elements of x and y
    int size_b;  // elements of b (ignored without b)
    int step_b;  // consecutive elements sharing one bias value (>= 1)
};

// bias_act_from_input is grad = 3: dy * gain * act'(s) under the inclusive
// clamp mask of act(s) * gain, s = xref + b.
template <int A_T>
__device__ __forceinline__ float bias_act_from_input(const BiasActParams& p, float dy, float s)
{
    const int A = A_T ? A_T : p.act;
    const float alpha = p.alpha, gain = p.gain, clamp = p.clamp;
    const float seluScale = 1.0507009873554804934193349852946f;
    const float seluAlpha = 1.6732632423543772848170429916717f;
    float v, d; // act(s), act'(s)
    if (A == 1) {
        v = s;
        d = 1.0f;
    } else if (A == 2 || A == 3) {
        d = (s > 0.0f) ? 1.0f : (A == 2 ? 0.0f : alpha);
        v = s * d;
    } else if (A == 4) {
        v = tanhf(s);
        d = 1.0f - v * v;
    } else if (A == 5) {
        v = 1.0f / (1.0f + expf(-s));
        d = v * (1.0f - v);
    } else if (A == 6) {
        v = (s > 0.0f) ? s : expm1f(s);
        d = (s <= 0.0f) ? expf(s) : 1.0f;
    } else if (A == 7) {
        v = (s > 0.0f) ? seluScale * s : seluScale * seluAlpha * expm1f(s);
        d = (s <= 0.0f) ? seluScale * seluAlpha * expf(s) : seluScale;
    } else if (A == 8) {
        const float sg = 1.0f / (1.0f + expf(-s));
        v = (s > 20.0f) ? s : log1pf(expf(s));
        d = (s > 20.0f) ? 1.0f : sg;
    } else { // swish
        const float sg = 1.0f / (1.0f + expf(-s));
        v = s * sg;
        d = sg + s * sg * (1.0f - sg);
    }
    const float y = v * gain;
    if (clamp >= 0.0f) {
        if (!(y >= -clamp && y <= clamp)) return 0.0f; // NaN too
    } else if (A <= 3 && y != y) {
        return 0.0f; // the host masks the piecewise-linear ones by [-inf, inf]
    }
    return dy * gain * d;
}

// bias_act_one computes one element. A_T and G_T, when not 0 and -1, fix the
// activation and the derivative order at compile time.
template <int A_T, int G_T>
__device__ __forceinline__ float bias_act_one(const BiasActParams& p, float x, float b, float xref, float yref,
                                              float dy)
{
    const int G = G_T >= 0 ? G_T : p.grad, A = A_T ? A_T : p.act;
    if (G == 3) return bias_act_from_input<A_T>(p, x * dy, xref + b);

    const float alpha = p.alpha, gain = p.gain, clamp = p.clamp;
    const float one = 1.0f, two = 2.0f;
    const float expRange = 80.0f, halfExpRange = 40.0f;
    const float seluScale = 1.0507009873554804934193349852946f;
    const float seluAlpha = 1.6732632423543772848170429916717f;
    const float yy = (gain != 0.0f) ? yref / gain : 0.0f;
    float y = 0.0f;

    if (G == 0) x += b; else xref += b;

    if (A == 1) { // linear
        if (G == 0 || G == 1) y = x;
    } else if (A == 2) { // relu
        if (G == 0) y = (x > 0.0f) ? x : 0.0f;
        if (G == 1) y = (yy > 0.0f) ? x : 0.0f;
    } else if (A == 3) { // lrelu
        if (G == 0) y = (x > 0.0f) ? x : x * alpha;
        if (G == 1) y = (yy > 0.0f) ? x : x * alpha;
    } else if (A == 4) { // tanh
        if (G == 0) {
            float c = expf(x), d = one / c;
            y = (x < -expRange) ? -one : (x > expRange) ? one : (c - d) / (c + d);
        }
        if (G == 1) y = x * (one - yy * yy);
        if (G == 2) y = x * (one - yy * yy) * (-two * yy);
    } else if (A == 5) { // sigmoid
        if (G == 0) y = (x < -expRange) ? 0.0f : one / (expf(-x) + one);
        if (G == 1) y = x * yy * (one - yy);
        if (G == 2) y = x * yy * (one - yy) * (one - two * yy);
    } else if (A == 6) { // elu
        if (G == 0) y = (x >= 0.0f) ? x : expf(x) - one;
        if (G == 1) y = (yy >= 0.0f) ? x : x * (yy + one);
        if (G == 2) y = (yy >= 0.0f) ? 0.0f : x * (yy + one);
    } else if (A == 7) { // selu
        if (G == 0) y = (x >= 0.0f) ? seluScale * x : (seluScale * seluAlpha) * (expf(x) - one);
        if (G == 1) y = (yy >= 0.0f) ? x * seluScale : x * (yy + seluScale * seluAlpha);
        if (G == 2) y = (yy >= 0.0f) ? 0.0f : x * (yy + seluScale * seluAlpha);
    } else if (A == 8) { // softplus
        if (G == 0) y = (x > expRange) ? x : logf(expf(x) + one);
        if (G == 1) y = x * (one - expf(-yy));
        if (G == 2) {
            float c = expf(-yy);
            y = x * c * (one - c);
        }
    } else if (A == 9) { // swish
        if (G == 0) {
            y = (x < -expRange) ? 0.0f : x / (expf(-x) + one);
        } else {
            float c = expf(xref), d = c + one;
            if (G == 1)
                y = (xref > halfExpRange) ? x : x * c * (xref + d) / (d * d);
            else
                y = (xref > halfExpRange) ? 0.0f : x * c * (xref * (two - d) + two * d) / (d * d * d);
            yref = 0.0f; // the reference clamps swish gradients by 0, not by yref
        }
    }

    y *= gain * dy;

    if (clamp >= 0.0f) {
        if (G == 0)
            y = (y > -clamp && y < clamp) ? y : (y >= 0.0f) ? clamp : -clamp; // NaN -> -clamp
        else
            y = (yref > -clamp && yref < clamp) ? y : 0.0f;
    }
    return y;
}

__device__ __forceinline__ bool ba_aligned(const float* p)
{
    return p == nullptr || ((unsigned long long)p & 15) == 0;
}

template <int A_T, int G_T>
__device__ __forceinline__ void bias_act_run(const BiasActParams& p, const float* __restrict__ x,
                                             const float* __restrict__ b, const float* __restrict__ xref,
                                             const float* __restrict__ yref, const float* __restrict__ dy,
                                             float* __restrict__ y)
{
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    const int stride = gridDim.x * blockDim.x;
    const bool vec = (p.size_x & 3) == 0 && ba_aligned(x) && ba_aligned(y) && ba_aligned(xref) &&
                     ba_aligned(yref) && ba_aligned(dy);
    if (vec) {
        const int n4 = p.size_x >> 2;
        for (int i = tid; i < n4; i += stride) {
            float4 xv = reinterpret_cast<const float4*>(x)[i];
            float4 xr = xref ? reinterpret_cast<const float4*>(xref)[i] : make_float4(0.f, 0.f, 0.f, 0.f);
            float4 yr = yref ? reinterpret_cast<const float4*>(yref)[i] : make_float4(0.f, 0.f, 0.f, 0.f);
            float4 dv = dy ? reinterpret_cast<const float4*>(dy)[i] : make_float4(1.f, 1.f, 1.f, 1.f);
            float bv[4] = {0.f, 0.f, 0.f, 0.f};
            if (b) {
                if ((p.step_b & 3) == 0) { // the four share one bias value
                    float v = b[((4 * i) / p.step_b) % p.size_b];
                    bv[0] = bv[1] = bv[2] = bv[3] = v;
                } else {
#pragma unroll
                    for (int q = 0; q < 4; q++) bv[q] = b[((4 * i + q) / p.step_b) % p.size_b];
                }
            }
            float4 out;
            out.x = bias_act_one<A_T, G_T>(p, xv.x, bv[0], xr.x, yr.x, dv.x);
            out.y = bias_act_one<A_T, G_T>(p, xv.y, bv[1], xr.y, yr.y, dv.y);
            out.z = bias_act_one<A_T, G_T>(p, xv.z, bv[2], xr.z, yr.z, dv.z);
            out.w = bias_act_one<A_T, G_T>(p, xv.w, bv[3], xr.w, yr.w, dv.w);
            reinterpret_cast<float4*>(y)[i] = out;
        }
    } else {
        for (int i = tid; i < p.size_x; i += stride) {
            float bb = b ? b[(i / p.step_b) % p.size_b] : 0.0f;
            y[i] = bias_act_one<A_T, G_T>(p, x[i], bb, xref ? xref[i] : 0.0f, yref ? yref[i] : 0.0f, dy ? dy[i] : 1.0f);
        }
    }
}

// The entry point dispatches once per thread to a version compiled for the
// activation and derivative order: StyleGAN2's lrelu and linear layers get
// straight-line code, the rest the general one. With the activation read at
// run time inside the element loop, the lrelu forward reached 41% of the copy
// bandwidth on an H200; compiled for it, 100% (bench/cuda/variants.cu).
extern "C" __global__ void bias_act_f32(BiasActParams p, const float* __restrict__ x, const float* __restrict__ b,
                                        const float* __restrict__ xref, const float* __restrict__ yref,
                                        const float* __restrict__ dy, float* __restrict__ y)
{
#define BA_CASE(A, G) \
    case (A) * 4 + (G): bias_act_run<A, G>(p, x, b, xref, yref, dy, y); return;
    switch (p.act * 4 + p.grad) {
    BA_CASE(1, 0) BA_CASE(1, 1) BA_CASE(1, 2) BA_CASE(1, 3)
    BA_CASE(3, 0) BA_CASE(3, 1) BA_CASE(3, 2) BA_CASE(3, 3)
    }
#undef BA_CASE
    bias_act_run<0, -1>(p, x, b, xref, yref, dy, y);
}
