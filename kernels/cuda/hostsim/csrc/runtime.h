// runtime.h: what a kernel file needs from CUDA, for the host CPU. Each of
// a block's threads is a coroutine with its own stack; the block's threads
// run one at a time, switching only at barriers (__syncthreads, and the two
// inside each warp shuffle), so shared memory needs no locks. Blocks run in
// parallel on OS threads, each with its own copy of shared memory, which is
// why __shared__ variables are thread_local statics. Each kernel file is
// compiled inside a namespace of its own, as NVRTC compiles it alone.
#pragma once
// Kernels test this where the simulator stands in for an instruction
// (the tensor cores' mma.sync, in inline PTX on a GPU).
#define LAFITE_HOSTSIM 1
#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static thread_local
#define __constant__ static const

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct __attribute__((aligned(8))) float2 {
    float x, y;
};
struct __attribute__((aligned(16))) float4 {
    float x, y, z, w;
};
struct __attribute__((aligned(16))) int4 {
    int x, y, z, w;
};
struct __attribute__((aligned(16))) uint4 {
    unsigned x, y, z, w;
};
struct __attribute__((aligned(8))) uint2 {
    unsigned x, y;
};
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
static inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
static inline float2 make_float2(float x, float y) { return {x, y}; }
static inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
static inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

// CUDA's overloaded min and max.
#define SIM_MINMAX(T)                                                                                                  \
    static inline T min(T a, T b) { return a < b ? a : b; }                                                            \
    static inline T max(T a, T b) { return a > b ? a : b; }
SIM_MINMAX(int)
SIM_MINMAX(unsigned)
SIM_MINMAX(long long)
SIM_MINMAX(unsigned long long)
#undef SIM_MINMAX
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }

namespace sim {
// The calling thread's indices and its block's state, set by the scheduler
// before each switch into a thread.
struct ThreadState {
    dim3 tid;
    unsigned linear; // threadIdx in row-major order: its lane is linear % 32
};
extern thread_local ThreadState* current;
extern thread_local dim3 block_idx, block_dim, grid_dim;
extern thread_local unsigned char* dynamic_shared;
void sync_block(const char* file, int line);
// fresh_shared fills a static shared array with 0xff bytes (NaN floats) the
// first time a thread of the current block reaches its declaration.
void fresh_shared(void* p, unsigned long bytes);
void sync_warp();
float exchange(float v, unsigned src_lane, unsigned mask);
// The warp's m16n8k8 TF32 tensor-core product (PTX mma.sync ... .tf32),
// d += a b with the fragments the PTX ISA assigns each lane; every lane of
// the warp must take part.
void mma_tf32_16x8x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]);
}

#define threadIdx (sim::current->tid)
#define blockIdx (sim::block_idx)
#define blockDim (sim::block_dim)
#define gridDim (sim::grid_dim)
#define warpSize 32

// Each barrier names its source line, so that threads of one block waiting
// at different __syncthreads (undefined on a GPU) are caught.
#define __syncthreads() sim::sync_block(__FILE__, __LINE__)
static inline void __syncwarp(unsigned = 0xffffffffu) { sim::sync_warp(); }
static inline float __shfl_xor_sync(unsigned members, float v, int mask, int = 32)
{
    return sim::exchange(v, (sim::current->linear % 32) ^ unsigned(mask), members);
}
static inline float __shfl_sync(unsigned members, float v, int lane, int = 32)
{
    return sim::exchange(v, unsigned(lane) % 32, members);
}
static inline float __shfl_up_sync(unsigned members, float v, unsigned d, int = 32)
{
    unsigned lane = sim::current->linear % 32;
    return sim::exchange(v, lane >= d ? lane - d : lane, members);
}
static inline float __shfl_down_sync(unsigned members, float v, unsigned d, int = 32)
{
    unsigned lane = sim::current->linear % 32;
    return sim::exchange(v, lane + d < 32 ? lane + d : lane, members);
}

static inline float __int_as_float(int i)
{
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}
static inline int __float_as_int(float f)
{
    int i;
    std::memcpy(&i, &f, 4);
    return i;
}
static inline unsigned __float_as_uint(float f) { return unsigned(__float_as_int(f)); }
static inline float __uint_as_float(unsigned u) { return __int_as_float(int(u)); }
[[noreturn]] static inline void __trap() { __builtin_trap(); }
static inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
namespace sim {
[[noreturn]] void misaligned(const void* p, unsigned align);
}
// Vector loads must be aligned to their size on a GPU (a misaligned one is
// a fault there); x86 would not mind, so check.
template <class T> static inline T __ldg(const T* p)
{
    if (reinterpret_cast<uintptr_t>(p) % alignof(T) != 0)
        sim::misaligned(p, alignof(T));
    return *p;
}
// The rounded intrinsics exist to keep NVRTC from contracting into an FMA; the
// host compiler is told not to contract at all (-ffp-contract=off).
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdividef(float a, float b) { return a / b; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __saturatef(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }
static inline void sincospif(float x, float* s, float* c)
{
    double a = double(x) * 3.14159265358979323846;
    *s = float(std::sin(a));
    *c = float(std::cos(a));
}

// Blocks run in parallel, so the atomics are real ones.
static inline float atomicAdd(float* p, float v)
{
    uint32_t* u = reinterpret_cast<uint32_t*>(p);
    uint32_t old = __atomic_load_n(u, __ATOMIC_RELAXED);
    for (;;) {
        float f;
        std::memcpy(&f, &old, 4);
        f += v;
        uint32_t nw;
        std::memcpy(&nw, &f, 4);
        if (__atomic_compare_exchange_n(u, &old, nw, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            std::memcpy(&f, &old, 4);
            return f;
        }
    }
}
static inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

namespace sim {
// Registry of entry points: each kernel file's translation unit adds its
// kernels' unpacking wrappers at start-up.
typedef void (*Entry)(void** args);
struct Registration {
    Registration(const char* name, Entry e);
};
}
