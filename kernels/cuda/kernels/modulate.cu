// modulate.cu: StyleGAN2 modulated-convolution coefficients (REFERENCE.md section 3).
//
// weight [O, I, KK] (KK = kh*kw), styles [N, I]:
//   modconv_wsq_f32:    wsq[o, i] = sum_kk weight[o, i, kk]^2
//   modconv_demod_f32:  d[n, o]   = rsqrt(sum_i styles[n, i]^2 * wsq[o, i] + eps)   (eps = 1e-8)
//                       = rsqrt(sum_{i,kk} (weight[o,i,kk] * styles[n,i])^2 + eps), the reference's
//                       demodulation, without materialising the per-sample weights.
//   modconv_weight_f32: w[n, o, i, kk] = weight[o, i, kk] * styles[n, i] * (d ? d[n, o] : 1),
//                       the per-sample weights of the fused (grouped, groups = N) path.
// The non-fused training path is x * styles (broadcast multiply), a plain conv,
// then * d: only modconv_wsq_f32 + modconv_demod_f32 are needed there
// (tensor.Demod); the fused inference path takes modconv_weight_f32
// (tensor.ModulatedWeights). Their gradients are written with differentiable
// ops in autograd.
//
// Cost: wsq 2 FLOPs / 4 bytes per weight element; demod 3 FLOPs per (n, o, i)
// reading wsq (L2-resident) and styles; fused weight 2 FLOPs / 4+4 bytes per
// output element. All small next to the convolution.
//
// Launch:
//   modconv_wsq_f32:    block 256, grid ceil(O*I/256); one thread per (o, i).
//   modconv_demod_f32:  block 256, grid ceil(N*O/8); one warp per (n, o).
//   modconv_weight_f32: block 256, grid min(ceil(N*O*I*KK/256), 32*SMs); grid-stride.
//
// Entry points:
//   modconv_wsq_f32(int O, int I, int KK, const float* weight, float* wsq)
//   modconv_demod_f32(int N, int O, int I, float eps, const float* styles, const float* wsq, float* d)
//   modconv_weight_f32(int N, int O, int I, int KK, const float* weight, const float* styles,
//                      const float* d, float* w)

extern "C" __global__ void modconv_wsq_f32(int O, int I, int KK, const float* __restrict__ weight,
                                           float* __restrict__ wsq)
{
    int oi = blockIdx.x * blockDim.x + threadIdx.x;
    if (oi >= O * I) return;
    const float* w = weight + (long long)oi * KK;
    float s = 0.0f;
    for (int k = 0; k < KK; k++) s = fmaf(w[k], w[k], s);
    wsq[oi] = s;
}

extern "C" __global__ void modconv_demod_f32(int N, int O, int I, float eps, const float* __restrict__ styles,
                                             const float* __restrict__ wsq, float* __restrict__ d)
{
    int lane = threadIdx.x & 31;
    int no = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (no >= N * O) return;
    int n = no / O, o = no - n * O;
    const float* s = styles + (long long)n * I;
    const float* q = wsq + (long long)o * I;
    float acc = 0.0f;
    for (int i = lane; i < I; i += 32) acc = fmaf(s[i] * s[i], q[i], acc);
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    if (lane == 0) d[no] = rsqrtf(acc + eps);
}

extern "C" __global__ void modconv_weight_f32(int N, int O, int I, int KK, const float* __restrict__ weight,
                                              const float* __restrict__ styles, const float* __restrict__ d,
                                              float* __restrict__ w)
{
    const long long per_n = (long long)O * I * KK;
    const long long total = per_n * N;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int n = (int)(e / per_n);
        int r = (int)(e - n * per_n); // index into weight
        int oi = r / KK;
        int o = oi / I, i = oi - o * I;
        float v = weight[r] * styles[(long long)n * I + i];
        if (d) v *= d[(long long)n * O + o];
        w[e] = v;
    }
}
