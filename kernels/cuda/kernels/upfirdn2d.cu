// upfirdn2d.cu: upsample, pad, FIR filter, downsample (REFERENCE.md section 2).
//
// Per plane (x is [major, in_h, in_w] contiguous, major = N*C), per axis:
// upsample by inserting up-1 zeros, pad by (p0, p1) on the upsampled grid
// (negative crops), filter, keep every down-th sample:
//   y[o] = gain * sum_k xu[o*down + k - p0] * f'[k],   xu zero outside,
//   f'[k] = f[taps-1-k] (flip = 0: true convolution) or f[k] (flip = 1: correlation),
// in 2-D with f [fh, fw] (a separable filter is applied as two launches with
// fh = 1 and fw = 1). out = (in*up + p0 + p1 - taps + down) / down per axis.
// The gradient w.r.t. x is this same kernel (up/down swapped, flip negated,
// pads from REFERENCE.md), so every order of derivative reuses it.
//
// Polyphase: for output o, mid = o*down - p0; only taps k = k0, k0+up, ... with
// k0 = (-mid) mod up meet a real input, which is (mid + k) / up. With up = 2 and
// a 4x4 filter that is 2x2 taps per output.
//
// Cost per output: 2*ceil(fh/up_y)*ceil(fw/up_x) FLOPs; bytes: input plane once
// (from the shared-memory tile) + output once. The StyleGAN cases (4x4 filter,
// up or down 2) are memory-bound.
//
// upfirdn2d_f32 (any up/down/filter): a block computes a 32x32 output tile of
// one plane (looping over planes by gridDim.z) from an input tile and the
// gain-scaled, pre-oriented filter in dynamic shared memory of
//   4 * (tin_w * tin_h + fh * fw) bytes, tin = ((32-1)*down + taps - 1) / up + 1
// (UpfirdnSharedBytes in params.go computes it).
//   Launch: block (32, 8), grid (ceil(out_w/32), ceil(out_h/32), min(major, 65535)).
//   upfirdn2d_{up2,down2,filter}_f4_tiled_f32 are this kernel with up, down and
//   taps fixed at compile time for the 4x4 cases, launched the same way.
// upfirdn2d_up2_f4_f32 (up 2, down 1, 4x4), upfirdn2d_down2_f4_f32 (up 1,
// down 2, 4x4), upfirdn2d_filter_f4_f32 (up 1, down 1, 4x4: filter2d and the
// FIR of a resampling conv): row-streaming, no shared memory (see below); pads,
// flip and gain stay parameters.
//   Launch: block (32, 4), grid (ceil(units/32), ceil(strips/4), min(major, 65535))
//   with units = ceil(out_w/2) for up 2, out_w otherwise, and strips =
//   ceil(ceil(out_h/2)/8) for up 2, ceil(out_h/8) for down 2, ceil(out_h/16)
//   for the filter.
// upfirdn2d_direct_f32: no shared memory, one thread per output, for filters or
//   down factors whose tile would not fit.
//   Launch: block 256, grid min(ceil(major*out_h*out_w/256), 32*SMs); grid-stride.
//
// Entry points:
//   upfirdn2d_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_up2_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_down2_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_filter_f4_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_direct_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_up2_f4_tiled_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_down2_f4_tiled_f32(UpfirdnParams p, const float* x, const float* f, float* y)
//   upfirdn2d_filter_f4_tiled_f32(UpfirdnParams p, const float* x, const float* f, float* y)

struct UpfirdnParams {
    int major;            // planes (N*C)
    int in_h, in_w;
    int out_h, out_w;
    int up_x, up_y;
    int down_x, down_y;
    int pad_x0, pad_x1, pad_y0, pad_y1;
    int fh, fw;           // filter taps: f is [fh, fw]
    int flip;             // 1: correlation (flip_filter=True), 0: true convolution
    float gain;
};

#define UF_TW 32
#define UF_TH 32

__device__ __forceinline__ int uf_floordiv(int a, int b) // b > 0
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

__device__ __forceinline__ int uf_pmod(int a, int b) // b > 0, result in [0, b)
{
    int r = a % b;
    return r < 0 ? r + b : r;
}

// UP, DOWN, FH, FW: compile-time values, or 0 to read them from p.
template <int UP, int DOWN, int FH, int FW>
__device__ __forceinline__ void upfirdn_tiled(const UpfirdnParams& p, const float* __restrict__ x,
                                              const float* __restrict__ f, float* __restrict__ y)
{
    extern __shared__ float uf_smem[];
    const int up_x = UP ? UP : p.up_x, up_y = UP ? UP : p.up_y;
    const int down_x = DOWN ? DOWN : p.down_x, down_y = DOWN ? DOWN : p.down_y;
    const int fh = FH ? FH : p.fh, fw = FW ? FW : p.fw;
    const int tin_w = ((UF_TW - 1) * down_x + fw - 1) / up_x + 1;
    const int tin_h = ((UF_TH - 1) * down_y + fh - 1) / up_y + 1;
    float* tile = uf_smem;
    float* fs = uf_smem + tin_w * tin_h;
    const int tid = threadIdx.y * blockDim.x + threadIdx.x, nthreads = blockDim.x * blockDim.y;

    // Filter in correlation orientation, gain folded in: output = sum tile * fs.
    for (int i = tid; i < fh * fw; i += nthreads) {
        int ky = i / fw, kx = i - ky * fw;
        fs[i] = p.gain * (p.flip ? f[i] : f[(fh - 1 - ky) * fw + (fw - 1 - kx)]);
    }

    const int ox0 = blockIdx.x * UF_TW, oy0 = blockIdx.y * UF_TH;
    // First input row/column the tile needs: ceil((o0*down - p0) / up).
    const int ix_lo = -uf_floordiv(p.pad_x0 - ox0 * down_x, up_x);
    const int iy_lo = -uf_floordiv(p.pad_y0 - oy0 * down_y, up_y);

    // Per-thread output column: its first tap and input column are plane-independent.
    const int ox = ox0 + threadIdx.x;
    const int mid_x = ox * down_x - p.pad_x0;
    const int kx0 = uf_pmod(-mid_x, up_x);
    const int lx0 = (mid_x + kx0) / up_x - ix_lo; // exact division

    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + (long long)plane * p.in_h * p.in_w;
        __syncthreads(); // the previous plane's tile is no longer read
        for (int i = tid; i < tin_w * tin_h; i += nthreads) {
            int ly = i / tin_w, lx = i - ly * tin_w;
            int iy = iy_lo + ly, ix = ix_lo + lx;
            tile[i] = ((unsigned)iy < (unsigned)p.in_h && (unsigned)ix < (unsigned)p.in_w) ? xp[iy * p.in_w + ix] : 0.0f;
        }
        __syncthreads();
        if (ox >= p.out_w) continue;
        float* yp = y + (long long)plane * p.out_h * p.out_w;
        for (int r = threadIdx.y; r < UF_TH; r += blockDim.y) {
            const int oy = oy0 + r;
            if (oy >= p.out_h) break;
            const int mid_y = oy * down_y - p.pad_y0;
            const int ky0 = uf_pmod(-mid_y, up_y);
            int ly = (mid_y + ky0) / up_y - iy_lo;
            float acc = 0.0f;
#pragma unroll
            for (int ky = ky0; ky < fh; ky += up_y, ly++) {
                const float* trow = tile + ly * tin_w;
                const float* frow = fs + ky * fw;
                int lx = lx0;
#pragma unroll
                for (int kx = kx0; kx < fw; kx += up_x, lx++) acc = fmaf(trow[lx], frow[kx], acc);
            }
            yp[oy * p.out_w + ox] = acc;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_tiled<0, 0, 0, 0>(p, x, f, y);
}

// ---------------------------------------------------------------------------
// Row-streaming kernels for the 4x4 StyleGAN cases (up 2, down 2, filter). A
// warp covers 32 adjacent column units of one plane and each thread walks a
// strip of output rows, keeping the input rows that consecutive outputs share
// in registers: every input element is loaded once per strip, by one
// coalesced load per thread per row, and the window's columns that belong to
// neighbouring threads come by warp shuffle (the warp's edge lanes load
// theirs). No shared memory, no barrier, no division per element. (The
// shared-tile kernel they replace spent most of its time on scalar tile
// stores, the index division per tile element and 16 shared-memory reads per
// output: 58% of the copy bandwidth for down 2 on an H200.)
//   Block (32, 4): warp y takes strip blockIdx.y*4 + y of the plane.
//   Grid (ceil(units/32), ceil(strips/4), min(major, 65535)); blocks loop over
//   planes blockIdx.z, blockIdx.z + gridDim.z, ...
// Shuffles are warp-wide, so every lane of a warp runs the row loads, and a
// strip stops only where the whole warp does.

#define UF_FULL 0xffffffffu
// Strips of the engine's entry points (the device functions take the strip
// as a template parameter, so that bench/cuda/uf_variants.cuh can time
// others): output rows per thread for down 2 and the filter, row pairs for
// up 2.
#define UF_STRIP_DOWN2 8
#define UF_STRIP_FILTER 16
#define UF_STRIP_UP2 8

// uf_weights4: the gain-scaled 4x4 filter in correlation orientation.
__device__ __forceinline__ void uf_weights4(const UpfirdnParams& p, const float* __restrict__ f, float (&w)[4][4])
{
#pragma unroll
    for (int ky = 0; ky < 4; ky++)
#pragma unroll
        for (int kx = 0; kx < 4; kx++) w[ky][kx] = p.gain * __ldg(p.flip ? f + ky * 4 + kx : f + (3 - ky) * 4 + (3 - kx));
}

// uf_at: row[c], zero outside the row or for a row outside the plane (null).
__device__ __forceinline__ float uf_at(const float* __restrict__ row, int c, int in_w)
{
    return (row && (unsigned)c < (unsigned)in_w) ? __ldg(row + c) : 0.0f;
}

__device__ __forceinline__ const float* uf_row(const float* __restrict__ xp, int r, const UpfirdnParams& p)
{
    return (unsigned)r < (unsigned)p.in_h ? xp + (long long)r * p.in_w : nullptr;
}

// Each kernel reads an input row in two steps: fetch issues the thread's
// loads (its own element(s), and on one or two lanes a halo column past the
// warp's edge; the down-2 and filter kernels index rows by int offsets in the
// plane, which keeps the address arithmetic at one multiply-add a load),
// window assembles the thread's window from them and its neighbours' by warp
// shuffle. A strip fetches all its rows before it
// assembles any, so that a thread has every load of its strip in flight at
// once: assembling a row as soon as it is loaded waits a whole memory latency
// per row, with one load in flight per warp.
//
// The down-2 and filter kernels were issue-bound in their first form (ptxas
// for sm_90: 125 and 273 instructions per output, against 16 FMAs; an H100
// ran them at 67% and 77% of its copy bandwidth): every load re-derived its
// row pointer and both bounds, three edge lanes each loaded up to three
// extra columns into registers every lane carried, and a warp-divergent
// `break` in the strip loop made every shuffle after it a collective. Now a
// row's bound is one comparison (the column bounds are the thread's, set
// once), one halo load per row replaces the edge loads, and the strip loop
// assembles windows unconditionally, guarding only its arithmetic and store.

// Down 2: output column ox reads input columns 2ox - p0 .. 2ox - p0 + 3. The
// thread loads the pair (c0, c0 + 1), c0 = 2(ox - floor(p0/2)), as one 8-byte
// load where VEC (even in_w, aligned x: a pair is then wholly inside the row
// or wholly outside); the window is (c0 .. c0 + 3) for even p0, taking the
// next lane's pair, and (c0 - 1 .. c0 + 2) for odd p0 (ODD), taking the
// previous lane's second and the next lane's first column. Lanes take their
// neighbours' values by shuffle; the lanes at the warp's edges take the
// columns past it from the halo, one column loaded by lane 0 (c0 + 64: lane
// 31's next) and, for even p0, lane 1 (c0 + 63: lane 31's next but one) or,
// for odd p0, lane 31 (c0 - 63: lane 0's previous).
struct UfDown2Row {
    float2 c;
    float h;
};

template <bool ODD, bool VEC>
struct UfDown2 {
    int c0, dh;      // the thread's pair, and its halo column relative to c0
    bool ok0, ok1;   // columns c0, c0 + 1 exist (VEC: ok0 == ok1)
    bool okh;        // this lane loads a halo column, and it exists
    __device__ UfDown2(const UpfirdnParams& p, int ox, int q)
    {
        const int lane = threadIdx.x;
        c0 = 2 * (ox - q);
        ok0 = (unsigned)c0 < (unsigned)p.in_w;
        ok1 = (unsigned)(c0 + 1) < (unsigned)p.in_w;
        dh = lane == 0 ? 64 : ODD ? -63 : 63;
        okh = (lane == 0 || lane == (ODD ? 31 : 1)) && (unsigned)(c0 + dh) < (unsigned)p.in_w;
    }
    __device__ UfDown2Row fetch(const float* __restrict__ xp, int rowbase, bool rowok) const
    {
        UfDown2Row d;
        const float* at = xp + (rowbase + c0);
        if (VEC) {
            d.c = rowok && ok0 ? __ldg(reinterpret_cast<const float2*>(at)) : make_float2(0.0f, 0.0f);
        } else {
            d.c.x = rowok && ok0 ? __ldg(at) : 0.0f;
            d.c.y = rowok && ok1 ? __ldg(at + 1) : 0.0f;
        }
        d.h = rowok && okh ? __ldg(at + dh) : 0.0f;
        return d;
    }
    __device__ void window(const UfDown2Row& d, float (&v)[4]) const
    {
        const int lane = threadIdx.x;
        const int next = (lane + 1) & 31;
        if (!ODD) {
            const float nx = __shfl_sync(UF_FULL, d.c.x, next), ny = __shfl_sync(UF_FULL, d.c.y, next);
            const float hx = __shfl_sync(UF_FULL, d.h, next), hy = __shfl_sync(UF_FULL, d.h, (lane + 2) & 31);
            v[0] = d.c.x, v[1] = d.c.y, v[2] = lane == 31 ? hx : nx, v[3] = lane == 31 ? hy : ny;
        } else {
            const int prev = (lane + 31) & 31;
            const float py = __shfl_sync(UF_FULL, d.c.y, prev), nx = __shfl_sync(UF_FULL, d.c.x, next);
            const float hp = __shfl_sync(UF_FULL, d.h, prev), hn = __shfl_sync(UF_FULL, d.h, next);
            v[0] = lane == 0 ? hp : py, v[1] = d.c.x, v[2] = d.c.y, v[3] = lane == 31 ? hn : nx;
        }
    }
};

// Filter (up 1, down 1): one column per lane, c = ox - p0, and a window of
// columns c .. c + 3: column c + k comes from lane + k, or, past lane 31,
// from the halo that lanes 0..2 load (their column + 32), by shuffle from
// lane (lane + k) & 31.
struct UfFilterRow {
    float v, h;
};

struct UfFilter {
    int c;
    bool ok, okh;
    __device__ UfFilter(const UpfirdnParams& p, int ox)
    {
        c = ox - p.pad_x0;
        ok = (unsigned)c < (unsigned)p.in_w;
        okh = threadIdx.x < 3 && (unsigned)(c + 32) < (unsigned)p.in_w;
    }
    __device__ UfFilterRow fetch(const float* __restrict__ xp, int rowbase, bool rowok) const
    {
        UfFilterRow d;
        const float* at = xp + (rowbase + c);
        d.v = rowok && ok ? __ldg(at) : 0.0f;
        d.h = rowok && okh ? __ldg(at + 32) : 0.0f;
        return d;
    }
    __device__ void window(const UfFilterRow& d, float (&v)[4]) const
    {
        const int lane = threadIdx.x;
        v[0] = d.v;
#pragma unroll
        for (int k = 1; k < 4; k++) {
            const int src = (lane + k) & 31;
            const float a = __shfl_sync(UF_FULL, d.v, src), b = __shfl_sync(UF_FULL, d.h, src);
            v[k] = lane + k > 31 ? b : a;
        }
    }
};

// One element per thread and a window of N columns (c .. c + N - 1): the
// filter (N = 4) and up 2 (N = 3). Lane L holds column c; column c + d
// comes from lane L + d, or for L + d > 31 from the thread's own edge load.
template <int N>
struct UfShiftRow {
    float v;
    float e[N - 1]; // e[d - 1]: column c + d, loaded where lane + d > 31
};

template <int N>
struct UfShift {
    int c, in_w;
    __device__ UfShiftRow<N> fetch(const float* __restrict__ row) const
    {
        const int lane = threadIdx.x;
        UfShiftRow<N> d;
        d.v = uf_at(row, c, in_w);
#pragma unroll
        for (int k = 1; k < N; k++) d.e[k - 1] = lane + k > 31 ? uf_at(row, c + k, in_w) : 0.0f;
        return d;
    }
    template <int W>
    __device__ void window(const UfShiftRow<N>& d, float (&v)[W]) const
    {
        static_assert(W == N, "window width");
        const int lane = threadIdx.x;
        v[0] = d.v;
#pragma unroll
        for (int k = 1; k < N; k++) {
            const float t = __shfl_down_sync(UF_FULL, d.v, k);
            v[k] = lane + k > 31 ? d.e[k - 1] : t;
        }
    }
};

// uf_stream_rows: the strip loop of down 2 (DOWN = 2) and the filter (DOWN =
// 1). Output row oy0 + i reads input rows DOWN*(oy0 + i) - pad_y0 + 0..3; the
// strip's DOWN*STRIP + 4 - DOWN input rows are fetched first, then each
// output row assembles the windows of its new rows (the 4 - DOWN it shares
// with the previous output stay in registers). Rows past the plane's last
// output are assembled too (their loads are off), so that every shuffle runs
// in converged code; only their arithmetic and stores are skipped.
template <int DOWN, int STRIP, class Rows>
__device__ __forceinline__ void uf_stream_rows(const UpfirdnParams& p, const float* __restrict__ x,
                                               const float* __restrict__ f, float* __restrict__ y, int ox,
                                               const Rows& rows)
{
    constexpr int NR = DOWN * STRIP + 4 - DOWN;
    const int oy0 = (blockIdx.y * blockDim.y + threadIdx.y) * STRIP;
    if (oy0 >= p.out_h) return; // the whole warp
    const int nout = min(STRIP, p.out_h - oy0);
    const bool okx = ox < p.out_w;
    float w[4][4];
    uf_weights4(p, f, w);
    const int r0 = DOWN * oy0 - p.pad_y0;
    const long long in_plane = (long long)p.in_h * p.in_w, out_plane = (long long)p.out_h * p.out_w;
    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + plane * in_plane;
        float* yr = y + plane * out_plane + (long long)oy0 * p.out_w + ox;
        decltype(rows.fetch(nullptr, 0, false)) raw[NR];
        // Row r's elements start at (r0 + r) * in_w, an int offset in the
        // plane (dereferenced only where the row exists). The empty asm hides
        // r0's value from the compiler, which would otherwise hoist every
        // row's offset and bound out of the plane loop and keep them all in
        // registers (128, and spills, for a few instructions a row).
        int rp = r0;
        asm volatile("" : "+r"(rp));
#pragma unroll
        for (int r = 0; r < NR; r++) raw[r] = rows.fetch(xp, (rp + r) * p.in_w, (unsigned)(rp + r) < (unsigned)p.in_h);
        float win[4][4];
#pragma unroll
        for (int r = 0; r < 4 - DOWN; r++) rows.window(raw[r], win[r]);
#pragma unroll
        for (int i = 0; i < STRIP; i++) {
#pragma unroll
            for (int r = 4 - DOWN; r < 4; r++) rows.window(raw[DOWN * i + r], win[r]);
            if (i < nout) {
                float acc = 0.0f;
#pragma unroll
                for (int ky = 0; ky < 4; ky++)
#pragma unroll
                    for (int kx = 0; kx < 4; kx++) acc = fmaf(win[ky][kx], w[ky][kx], acc);
                if (okx) *yr = acc;
            }
            yr += p.out_w;
#pragma unroll
            for (int r = 0; r < 4 - DOWN; r++)
#pragma unroll
                for (int kx = 0; kx < 4; kx++) win[r][kx] = win[r + DOWN][kx];
        }
    }
}

template <int STRIP>
__device__ __forceinline__ void upfirdn_stream_down2(const UpfirdnParams& p, const float* __restrict__ x,
                                                     const float* __restrict__ f, float* __restrict__ y)
{
    const int ox = blockIdx.x * 32 + threadIdx.x;
    const int q = uf_floordiv(p.pad_x0, 2);
    const bool odd = p.pad_x0 - 2 * q != 0;
    const bool vec = (p.in_w & 1) == 0 && ((unsigned long long)x & 7) == 0;
    if (vec) {
        if (odd) uf_stream_rows<2, STRIP>(p, x, f, y, ox, UfDown2<true, true>(p, ox, q));
        else uf_stream_rows<2, STRIP>(p, x, f, y, ox, UfDown2<false, true>(p, ox, q));
    } else {
        if (odd) uf_stream_rows<2, STRIP>(p, x, f, y, ox, UfDown2<true, false>(p, ox, q));
        else uf_stream_rows<2, STRIP>(p, x, f, y, ox, UfDown2<false, false>(p, ox, q));
    }
}

template <int STRIP>
__device__ __forceinline__ void upfirdn_stream_filter(const UpfirdnParams& p, const float* __restrict__ x,
                                                      const float* __restrict__ f, float* __restrict__ y)
{
    const int ox = blockIdx.x * 32 + threadIdx.x;
    uf_stream_rows<1, STRIP>(p, x, f, y, ox, UfFilter(p, ox));
}

// Up 2: thread t computes output columns 2t, 2t+1 of output rows 2s, 2s+1
// for each row pair s of its strip. Per axis, with b = t - floor(p0/2),
// output 2t reads inputs b, b+1 with taps k0 = p0 & 1 and k0 + 2, and output
// 2t+1 reads b+d, b+d+1 (d = 1 - (p0 & 1)) with taps 1 - k0 and 3 - k0: a
// window of inputs b .. b+2 (UfShift<3>). Each input row completes two
// output rows.
// upfirdn_stream_up2_phase: the up-2 strip loop for the column and row pad
// parities PX and PY. They pick which window entries and taps each output
// uses, so as template parameters every index into the window and the
// filter is a constant and both stay in registers (with runtime parities
// ptxas put the window in local memory: 112 bytes of stack, 112 local loads).
template <int STRIP, int PX, int PY>
__device__ __forceinline__ void upfirdn_stream_up2_phase(const UpfirdnParams& p, const float* __restrict__ x,
                                                         const float* __restrict__ f, float* __restrict__ y)
{
    constexpr int NR = STRIP + 2;
    const int t = blockIdx.x * 32 + threadIdx.x, ox = 2 * t;
    const int s0 = (blockIdx.y * blockDim.y + threadIdx.y) * STRIP;
    if (2 * s0 >= p.out_h) return; // the whole warp
    float f4[4][4];
    uf_weights4(p, f, f4);
    constexpr int DX = 1 - PX, DY = 1 - PY;
    // w[a][c][ta][tb]: output row phase a, column phase c, row tap ta, column tap tb.
    float w[2][2][2][2];
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int c = 0; c < 2; c++)
#pragma unroll
            for (int ta = 0; ta < 2; ta++)
#pragma unroll
                for (int tb = 0; tb < 2; tb++) w[a][c][ta][tb] = f4[(a ? 1 - PY : PY) + 2 * ta][(c ? 1 - PX : PX) + 2 * tb];
    const UfShift<3> rows{t - uf_floordiv(p.pad_x0, 2), p.in_w};
    const int r0 = s0 - uf_floordiv(p.pad_y0, 2);
    const bool pair = ox + 1 < p.out_w;
    const bool vec = pair && (p.out_w & 1) == 0 && ((unsigned long long)y & 7) == 0;
    const long long in_plane = (long long)p.in_h * p.in_w, out_plane = (long long)p.out_h * p.out_w;
    for (int plane = blockIdx.z; plane < p.major; plane += gridDim.z) {
        const float* xp = x + plane * in_plane;
        float* yp = y + plane * out_plane;
        UfShiftRow<3> raw[NR];
#pragma unroll
        for (int r = 0; r < NR; r++) raw[r] = rows.fetch(uf_row(xp, r0 + r, p));
        float win[3][3];
        rows.window(raw[0], win[0]);
        rows.window(raw[1], win[1]);
#pragma unroll
        for (int i = 0; i < STRIP; i++) {
            const int oy = 2 * (s0 + i);
            if (oy >= p.out_h) break;
            rows.window(raw[i + 2], win[2]);
#pragma unroll
            for (int a = 0; a < 2; a++) {
                float o[2];
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    float acc = 0.0f;
#pragma unroll
                    for (int ta = 0; ta < 2; ta++)
#pragma unroll
                        for (int tb = 0; tb < 2; tb++)
                            acc = fmaf(win[(a ? DY : 0) + ta][(c ? DX : 0) + tb], w[a][c][ta][tb], acc);
                    o[c] = acc;
                }
                if (oy + a < p.out_h && ox < p.out_w) {
                    float* yr = yp + (long long)(oy + a) * p.out_w + ox;
                    if (vec) {
                        *reinterpret_cast<float2*>(yr) = make_float2(o[0], o[1]);
                    } else {
                        yr[0] = o[0];
                        if (pair) yr[1] = o[1];
                    }
                }
            }
#pragma unroll
            for (int r = 0; r < 2; r++)
#pragma unroll
                for (int c = 0; c < 3; c++) win[r][c] = win[r + 1][c];
        }
    }
}

template <int STRIP>
__device__ __forceinline__ void upfirdn_stream_up2(const UpfirdnParams& p, const float* __restrict__ x,
                                                   const float* __restrict__ f, float* __restrict__ y)
{
    switch ((p.pad_y0 & 1) * 2 + (p.pad_x0 & 1)) {
    case 0: upfirdn_stream_up2_phase<STRIP, 0, 0>(p, x, f, y); break;
    case 1: upfirdn_stream_up2_phase<STRIP, 1, 0>(p, x, f, y); break;
    case 2: upfirdn_stream_up2_phase<STRIP, 0, 1>(p, x, f, y); break;
    default: upfirdn_stream_up2_phase<STRIP, 1, 1>(p, x, f, y); break;
    }
}

extern "C" __global__ void __launch_bounds__(128)
upfirdn2d_up2_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_stream_up2<UF_STRIP_UP2>(p, x, f, y);
}

// 4 blocks per SM: the strip's 18 fetched rows need about 137 registers
// unbounded and fit 128 without a spill (NVRTC 11.8, sm_80 and sm_90).
extern "C" __global__ void __launch_bounds__(128, 4)
upfirdn2d_down2_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_stream_down2<UF_STRIP_DOWN2>(p, x, f, y);
}

extern "C" __global__ void __launch_bounds__(128)
upfirdn2d_filter_f4_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_stream_filter<UF_STRIP_FILTER>(p, x, f, y);
}

// The shared-memory tile kernel specialised for the same three 4x4 cases (the
// engine's versions up to a2de71e; PlanUpfirdn2dKind with tiled, and
// LAFITE_CUDA_UPFIRDN=tiled, choose them, so that the two designs can be
// timed against each other in a whole step).
extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_up2_f4_tiled_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f, float* __restrict__ y)
{
    upfirdn_tiled<2, 1, 4, 4>(p, x, f, y);
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_down2_f4_tiled_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f,
                             float* __restrict__ y)
{
    upfirdn_tiled<1, 2, 4, 4>(p, x, f, y);
}

extern "C" __global__ void __launch_bounds__(256)
upfirdn2d_filter_f4_tiled_f32(UpfirdnParams p, const float* __restrict__ x, const float* __restrict__ f,
                              float* __restrict__ y)
{
    upfirdn_tiled<1, 1, 4, 4>(p, x, f, y);
}

extern "C" __global__ void upfirdn2d_direct_f32(UpfirdnParams p, const float* __restrict__ x,
                                                const float* __restrict__ f, float* __restrict__ y)
{
    const long long total = (long long)p.major * p.out_h * p.out_w;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        const int plane = (int)(e / ((long long)p.out_h * p.out_w));
        const int r = (int)(e - (long long)plane * p.out_h * p.out_w);
        const int oy = r / p.out_w, ox = r - oy * p.out_w;
        const float* xp = x + (long long)plane * p.in_h * p.in_w;
        const int mid_y = oy * p.down_y - p.pad_y0, mid_x = ox * p.down_x - p.pad_x0;
        const int ky0 = uf_pmod(-mid_y, p.up_y), kx0 = uf_pmod(-mid_x, p.up_x);
        float acc = 0.0f;
        int iy = (mid_y + ky0) / p.up_y;
        for (int ky = ky0; ky < p.fh; ky += p.up_y, iy++) {
            if ((unsigned)iy >= (unsigned)p.in_h) continue;
            int ix = (mid_x + kx0) / p.up_x;
            for (int kx = kx0; kx < p.fw; kx += p.up_x, ix++) {
                if ((unsigned)ix >= (unsigned)p.in_w) continue;
                float fv = p.flip ? f[ky * p.fw + kx] : f[(p.fh - 1 - ky) * p.fw + (p.fw - 1 - kx)];
                acc = fmaf(xp[iy * p.in_w + ix], fv, acc);
            }
        }
        y[e] = p.gain * acc;
    }
}
