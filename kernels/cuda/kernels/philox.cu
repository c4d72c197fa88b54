// philox.cu: counter-based random numbers (Philox4x32-10), uniform and normal.
//
// Sequence definition (philox.go implements the same in Go: bit-exact for the
// words and for uniforms in [0, 1), within 1 ulp for other ranges; normals
// agree to the float rounding of log/sqrt/sincos):
//   key     = (lo32(seed), hi32(seed))
//   block j = Philox4x32-10(counter = (lo32(j), hi32(j), lo32(offset), hi32(offset)), key)
//             = four 32-bit words w0..w3  (Random123's philox4x32_R with R = 10)
//   element i of the output uses block j = i / 4:
//   uniform: u(w)  = ((w >> 8) + 0.5) * 2^-24, strictly inside (0, 1), exact in float32;
//            out[i] = lo + (hi - lo) * u(w_{i%4})
//   normal:  Box-Muller on the pairs (w0,w1) and (w2,w3):
//            r = sqrt(-2 log u(w0)), out[4j] = r cos(2 pi u(w1)), out[4j+1] = r sin(2 pi u(w1)),
//            likewise (w2,w3) for 4j+2, 4j+3; then out = mean + std * z.
// So element i depends only on (seed, offset, i): any grid gives the same
// numbers, and a caller advancing offset by one per call never reuses a block.
//
// rng_*_f32 draw tensor.RNG's sequence instead (kernels/cpu/philox.go), so that
// a seeded run gives the same numbers on either device: block b =
// Philox4x32-10((lo32(b), hi32(b), 0, 0), key), i.e. offset 0 above, and
//   uniform: element i uses block counter + i/4, word i%4:
//            out[i] = lo + (w >> 8) * 2^-24 * (hi - lo), each operation rounded
//            to float32 as Go does (no fma contraction): bit-exact.
//   normal:  element i uses block counter + i/2, words (2*(i%2), 2*(i%2)+1):
//            u1 = ((w_a >> 8) + 1) * 2^-24 in (0, 1], u2 = ((w_b >> 8) + 1) * 2^-24,
//            out[i] = sqrt(-2 log u1) cos(2 pi u2), in double as the Go code,
//            rounded once: equal to the CPU but for rare last-bit differences.
// The caller advances counter by ceil(n/4) (uniform) or ceil(n/2) (normal).
//
// Cost per 4 outputs: 10 rounds of 2 32x32->64 multiplies (~40 integer ops);
// normals add 2 log, 2 sqrt, 2 sincos. 16 bytes written: memory-bound on
// recent GPUs.
//
// Launch: block 256, grid min(ceil(n/4/256), 32*SMs); grid-stride over blocks j.
//
// Entry points:
//   philox_uniform_f32(long long n, unsigned long long seed, unsigned long long offset,
//                      float lo, float hi, float* out)
//   philox_normal_f32(long long n, unsigned long long seed, unsigned long long offset,
//                     float mean, float std, float* out)
//   rng_uniform_f32(long long n, unsigned long long seed, unsigned long long counter,
//                   float lo, float hi, float* out)
//   rng_normal_f32(long long n, unsigned long long seed, unsigned long long counter, float* out)
//   Launch (rng_*): block 256, grid min(ceil(n/4/256), 32*SMs) (uniform) or
//   min(ceil(n/2/256), 32*SMs) (normal); grid-stride over blocks.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ __forceinline__ uint4 philox4x32_10(uint4 c, unsigned int k0, unsigned int k1)
{
#pragma unroll
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        unsigned int hi0 = __umulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        unsigned int hi1 = __umulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        c = make_uint4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
    }
    return c;
}

__device__ __forceinline__ float philox_u01(unsigned int w)
{
    return ((float)(w >> 8) + 0.5f) * 5.9604644775390625e-08f; // 2^-24
}

__device__ __forceinline__ uint4 philox_block(unsigned long long j, unsigned long long seed,
                                              unsigned long long offset)
{
    uint4 c = make_uint4((unsigned int)j, (unsigned int)(j >> 32), (unsigned int)offset,
                         (unsigned int)(offset >> 32));
    return philox4x32_10(c, (unsigned int)seed, (unsigned int)(seed >> 32));
}

extern "C" __global__ void philox_uniform_f32(long long n, unsigned long long seed, unsigned long long offset,
                                              float lo, float hi, float* __restrict__ out)
{
    long long blocks = (n + 3) / 4;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < blocks; j += stride) {
        uint4 w = philox_block((unsigned long long)j, seed, offset);
        unsigned int ws[4] = {w.x, w.y, w.z, w.w};
        long long i0 = 4 * j;
#pragma unroll
        for (int q = 0; q < 4; q++)
            if (i0 + q < n) out[i0 + q] = fmaf(hi - lo, philox_u01(ws[q]), lo);
    }
}

extern "C" __global__ void philox_normal_f32(long long n, unsigned long long seed, unsigned long long offset,
                                             float mean, float std, float* __restrict__ out)
{
    long long blocks = (n + 3) / 4;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < blocks; j += stride) {
        uint4 w = philox_block((unsigned long long)j, seed, offset);
        float z[4];
        float r = sqrtf(-2.0f * logf(philox_u01(w.x)));
        float s, c;
        sincospif(2.0f * philox_u01(w.y), &s, &c);
        z[0] = r * c;
        z[1] = r * s;
        r = sqrtf(-2.0f * logf(philox_u01(w.z)));
        sincospif(2.0f * philox_u01(w.w), &s, &c);
        z[2] = r * c;
        z[3] = r * s;
        long long i0 = 4 * j;
#pragma unroll
        for (int q = 0; q < 4; q++)
            if (i0 + q < n) out[i0 + q] = fmaf(std, z[q], mean);
    }
}

extern "C" __global__ void rng_uniform_f32(long long n, unsigned long long seed, unsigned long long counter,
                                           float lo, float hi, float* __restrict__ out)
{
    const float span = __fsub_rn(hi, lo);
    long long blocks = (n + 3) / 4;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < blocks; j += stride) {
        uint4 w = philox_block(counter + (unsigned long long)j, seed, 0ull);
        unsigned int ws[4] = {w.x, w.y, w.z, w.w};
        long long i0 = 4 * j;
#pragma unroll
        for (int q = 0; q < 4; q++) {
            float u = (float)(ws[q] >> 8) * 5.9604644775390625e-08f; // exact: 24 bits times 2^-24
            if (i0 + q < n) out[i0 + q] = __fadd_rn(lo, __fmul_rn(u, span));
        }
    }
}

extern "C" __global__ void rng_normal_f32(long long n, unsigned long long seed, unsigned long long counter,
                                          float* __restrict__ out)
{
    long long pairs = (n + 1) / 2;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < pairs; j += stride) {
        uint4 w = philox_block(counter + (unsigned long long)j, seed, 0ull);
        unsigned int ws[4] = {w.x, w.y, w.z, w.w};
        long long i0 = 2 * j;
#pragma unroll
        for (int q = 0; q < 2; q++) {
            double u1 = ((double)(ws[2 * q] >> 8) + 1.0) * 5.9604644775390625e-08;
            double u2 = ((double)(ws[2 * q + 1] >> 8) + 1.0) * 5.9604644775390625e-08;
            double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
            if (i0 + q < n) out[i0 + q] = (float)z;
        }
    }
}
