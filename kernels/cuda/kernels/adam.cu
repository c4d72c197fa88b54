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
// Entry points:
//   adam_step_f32(long long n, float lr, float beta1, float beta2, float eps, float weight_decay,
//                 float bc1, float bc2, float grad_scale, float inf_to,
//                 float* p, const float* g, float* m, float* v)
//   ema_update_f32(long long n, float beta, float* avg, const float* src)

extern "C" __global__ void adam_step_f32(long long n, float lr, float beta1, float beta2, float eps,
                                         float weight_decay, float bc1, float bc2, float grad_scale,
                                         float inf_to, float* __restrict__ p, const float* __restrict__ g,
                                         float* __restrict__ m, float* __restrict__ v)
{
    const float step = lr / bc1, inv_sqrt_bc2 = rsqrtf(bc2);
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
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
        p[i] = pi - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

extern "C" __global__ void ema_update_f32(long long n, float beta, float* __restrict__ avg, const float* __restrict__ src)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const float s = src[i];
        avg[i] = __fadd_rn(s, __fmul_rn(beta, __fsub_rn(avg[i], s)));
    }
}
