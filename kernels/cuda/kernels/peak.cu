// peak.cu: the device's measured ceilings, against which the timing table
// states each kernel's fraction: FP32 FMA throughput and copy bandwidth.
//
// peak_fma_f32: every thread runs 8 independent FMA chains (enough to hide the
//   4-cycle FMA latency) for iters steps and writes one sum, so the compiler
//   cannot drop the work: 2 * 8 * iters FLOPs per thread. The chains multiply
//   by a and add b chosen by the caller near 1 and 0 (pass a = 1, b = 1e-7)
//   so the values stay finite for any iters.
// peak_copy_f32: y = x with 16-byte loads and stores, the bandwidth a
//   memory-bound kernel can reach: 8 bytes of DRAM traffic per float.
//
// Cost: peak_fma_f32 16*iters FLOPs per thread, 4 bytes written;
//   peak_copy_f32 0 FLOPs, 8*n4*4 bytes (n4 float4s read and written).
//
// Launch:
//   peak_fma_f32:  block 256, grid 64*SMs (any grid is correct); out holds
//                  gridDim.x*blockDim.x floats.
//   peak_copy_f32: block 256, grid min(ceil(n4/256), 32*SMs); grid-stride.
//
// Entry points:
//   peak_fma_f32(int iters, float a, float b, float* out)
//   peak_copy_f32(long long n4, const float4* x, float4* y)

extern "C" __global__ void __launch_bounds__(256) peak_fma_f32(int iters, float a, float b, float* __restrict__ out)
{
    const int tid = blockIdx.x * blockDim.x + threadIdx.x;
    float v[8];
#pragma unroll
    for (int k = 0; k < 8; k++) v[k] = (float)(tid + k) * 1e-3f;
#pragma unroll 16
    for (int i = 0; i < iters; i++) {
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] = fmaf(v[k], a, b);
    }
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; k++) s += v[k];
    out[tid] = s;
}

extern "C" __global__ void peak_copy_f32(long long n4, const float4* __restrict__ x, float4* __restrict__ y)
{
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride) y[i] = x[i];
}
