// adam.cu: the in-place parameter updates of training: one Adam step
// (torch.optim.Adam semantics), and the generator's moving average.
//
// Per element, with g = grad * grad_scale (then, when inf_to > 0, NaN -> 0 and
// +-inf -> +-inf_to, as the reference's nan_to_num before its step: Lafite
// passes 1e5, FLT_MAX gives torch.nan_to_num's defaults) and,
// when weight_decay != 0, g += weight_decay * p (torch Adam's L2, not AdamW):
//   m = beta1*m + (1-beta1)*g
//   v = beta2*v + (1-beta2)*g^2
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
// bc1 = 1 - beta1^t and bc2 = 1 - beta2^t are computed on the host for step t
// (t starts at 1). StyleGAN2's lazy regularisation scales lr and betas on the
// host too.
//
// Cost per element: ~15 FLOPs + 1 sqrt; 28 bytes (read p, g, m, v; write p, m, v):
// memory-bound.
//
// Launch: block 256, grid min(ceil(n/256), 32*SMs); grid-stride.
//
// ema_update_f32: avg = src + beta * (avg - src) per element, each of the
// three operations rounded on its own (no FMA contraction), as the host's
// loop (nn.EMAUpdate): one pass where the composed ops took four launches
// and eight. Cost: 12 bytes per element (read avg, src; write avg).
//
// adam_multi_f32, ema_multi_f32: the same for up to MULTI_MAX tensors in
// one launch (a model's parameters: 204 Adam launches a training step and
// 138 moving-average ones were each a few microseconds of launch for
// kilobytes of work). The tensors' pointers and sizes travel in the kernel's
// parameters (MultiTensor, ~2.2 KiB, under the 4 KiB limit), so a step
// needs no upload for them; each block takes `chunk` elements of one tensor,
// tensor i's blocks starting at block_start[i]. Per element the same code as
// the one-tensor kernels, so the results are bit for bit theirs.
//   Launch: block 256, grid block_start[count].
//
// Entry points:
//   adam_step_f32(long long n, float lr, float beta1, float beta2, float eps, float weight_decay,
//                 float bc1, float bc2, float grad_scale, float inf_to,
//                 float* p, const float* g, float* m, float* v)
//   ema_update_f32(long long n, float beta, float* avg, const float* src)
//   adam_multi_f32(MultiTensor t, float lr, float beta1, float beta2, float eps, float weight_decay,
//                  float bc1, float bc2, float grad_scale, float inf_to)
//   ema_multi_f32(MultiTensor t, float beta)

#define MULTI_MAX 48

// MultiTensor: the tensors of one multi-tensor launch. Adam reads p, g, m,
// v as the arrays' a, b, c, d; the moving average avg, src as a, b.
struct MultiTensor {
    int count;                       // tensors in this launch, <= MULTI_MAX
    int chunk;                       // elements per block
    int block_start[MULTI_MAX + 1]; // first block of tensor i; [count]: the grid
    long long n[MULTI_MAX];
    unsigned long long a[MULTI_MAX], b[MULTI_MAX], c[MULTI_MAX], d[MULTI_MAX];
};

// multi_range: the tensor and element range of this block.
__device__ __forceinline__ int multi_range(const MultiTensor& t, long long& begin, long long& end)
{
    int i = 0;
    while (i + 1 < t.count && t.block_start[i + 1] <= (int)blockIdx.x) i++;
    begin = (long long)((int)blockIdx.x - t.block_start[i]) * t.chunk;
    end = min(begin + t.chunk, t.n[i]);
    return i;
}

// adam_update: one element's step (see the top of the file).
__device__ __forceinline__ void adam_update(long long i, float lr_bc1, float beta1, float beta2, float eps,
                                            float weight_decay, float inv_sqrt_bc2, float grad_scale, float inf_to,
                                            float* __restrict__ p, const float* __restrict__ g,
                                            float* __restrict__ m, float* __restrict__ v)
{
    float gi = g[i] * grad_scale;
    if (inf_to > 0.0f) {
        if (gi != gi) gi = 0.0f;
        else if (gi > 3.402823466e+38f) gi = inf_to;
        else if (gi < -3.402823466e+38f) gi = -inf_to;
    }
    float pi = p[i];
    if (weight_decay != 0.0f) gi = fmaf(weight_decay, pi, gi);
    float mi = fmaf(beta1, m[i], (1.0f - beta1) * gi);
    float vi = fmaf(beta2, v[i], (1.0f - beta2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - lr_bc1 * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
}

// ema_value: avg + beta (avg - src) rounded op by op, as the host.
__device__ __forceinline__ float ema_value(float avg, float src, float beta)
{
    return __fadd_rn(src, __fmul_rn(beta, __fsub_rn(avg, src)));
}

extern "C" __global__ void adam_step_f32(long long n, float lr, float beta1, float beta2, float eps,
                                         float weight_decay, float bc1, float bc2, float grad_scale,
                                         float inf_to, float* __restrict__ p, const float* __restrict__ g,
                                         float* __restrict__ m, float* __restrict__ v)
{
    const float step = lr / bc1, inv_sqrt_bc2 = rsqrtf(bc2);
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        adam_update(i, step, beta1, beta2, eps, weight_decay, inv_sqrt_bc2, grad_scale, inf_to, p, g, m, v);
}

extern "C" __global__ void ema_update_f32(long long n, float beta, float* __restrict__ avg, const float* __restrict__ src)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        avg[i] = ema_value(avg[i], src[i], beta);
}

extern "C" __global__ void __launch_bounds__(256)
adam_multi_f32(MultiTensor t, float lr, float beta1, float beta2, float eps, float weight_decay,
               float bc1, float bc2, float grad_scale, float inf_to)
{
    long long begin, end;
    const int k = multi_range(t, begin, end);
    float* p = reinterpret_cast<float*>(t.a[k]);
    const float* g = reinterpret_cast<const float*>(t.b[k]);
    float* m = reinterpret_cast<float*>(t.c[k]);
    float* v = reinterpret_cast<float*>(t.d[k]);
    const float step = lr / bc1, inv_sqrt_bc2 = rsqrtf(bc2);
    for (long long i = begin + threadIdx.x; i < end; i += blockDim.x)
        adam_update(i, step, beta1, beta2, eps, weight_decay, inv_sqrt_bc2, grad_scale, inf_to, p, g, m, v);
}

extern "C" __global__ void __launch_bounds__(256)
ema_multi_f32(MultiTensor t, float beta)
{
    long long begin, end;
    const int k = multi_range(t, begin, end);
    float* avg = reinterpret_cast<float*>(t.a[k]);
    const float* src = reinterpret_cast<const float*>(t.b[k]);
    for (long long i = begin + threadIdx.x; i < end; i += blockDim.x) avg[i] = ema_value(avg[i], src[i], beta);
}
