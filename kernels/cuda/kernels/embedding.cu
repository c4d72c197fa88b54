// embedding.cu: embedding lookup (gather rows) and its gradient (scatter-add).
//
//   forward:  out[i, :] = table[idx[i], :]          (0 for an index outside [0, vocab))
//   backward: dtable[idx[i], :] += dout[i, :]        (atomicAdd; zero dtable first;
//                                                     indices outside [0, vocab) ignored)
// idx is int32 [n], table / dtable [vocab, dim], out / dout [n, dim], contiguous.
// The tensor layer validates indices on the host; the kernels only stay in bounds.
//
// Cost per element: 0 FLOPs (1 atomic add backward); 8 bytes forward, 8 bytes +
// an atomic backward.
//
// Launch: block 256, grid min(ceil(n*dim/256), 32*SMs); grid-stride loop over
// the n*dim output elements (consecutive threads walk one row: coalesced).
//
// Entry points:
//   embedding_fwd_f32(int n, int dim, int vocab, const int* idx, const float* table, float* out)
//   embedding_bwd_f32(int n, int dim, int vocab, const int* idx, const float* dout, float* dtable)

extern "C" __global__ void embedding_fwd_f32(int n, int dim, int vocab, const int* __restrict__ idx,
                                             const float* __restrict__ table, float* __restrict__ out)
{
    long long total = (long long)n * dim;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int i = (int)(e / dim), j = (int)(e - (long long)i * dim);
        int t = idx[i];
        out[e] = (t >= 0 && t < vocab) ? table[(long long)t * dim + j] : 0.0f;
    }
}

extern "C" __global__ void embedding_bwd_f32(int n, int dim, int vocab, const int* __restrict__ idx,
                                             const float* __restrict__ dout, float* __restrict__ dtable)
{
    long long total = (long long)n * dim;
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int i = (int)(e / dim), j = (int)(e - (long long)i * dim);
        int t = idx[i];
        if (t >= 0 && t < vocab) atomicAdd(dtable + (long long)t * dim + j, dout[e]);
    }
}
