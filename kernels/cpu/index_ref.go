package cpu

// GatherRowsRef copies rows of a [outer, n, inner] source into a
// [outer, len(idx), inner] destination: dst[o, k, :] = src[o, idx[k], :].
// Indices must already be validated to lie in [0, n).
func GatherRowsRef(outer, n, inner int, idx []int, dst, src []float32) {
	m := len(idx)
	ParallelFor(outer, m*inner, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for k, i := range idx {
				d := (o*m + k) * inner
				s := (o*n + i) * inner
				copy(dst[d:d+inner], src[s:s+inner])
			}
		}
	})
}

// ScatterAddRowsRef is the adjoint of GatherRowsRef: dst[o, idx[k], :] +=
// src[o, k, :], with dst [outer, n, inner] and src [outer, len(idx), inner].
// Repeated indices accumulate in index order, so results are deterministic.
func ScatterAddRowsRef(outer, n, inner int, idx []int, dst, src []float32) {
	m := len(idx)
	ParallelFor(outer, m*inner, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for k, i := range idx {
				d := dst[(o*n+i)*inner : (o*n+i+1)*inner]
				s := src[(o*m+k)*inner : (o*m+k+1)*inner]
				for j := range d {
					d[j] += s[j]
				}
			}
		}
	})
}

// GatherRef reads dst[i] = src[offs[i]] for precomputed source offsets.
func GatherRef(dst, src []float32, offs []int) {
	ParallelFor(len(dst), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = src[offs[i]]
		}
	})
}

// ScatterAddRef is the adjoint of GatherRef: dst[offs[i]] += src[i]. It runs
// serially because offsets may repeat.
func ScatterAddRef(dst, src []float32, offs []int) {
	for i, o := range offs {
		dst[o] += src[i]
	}
}

// Dispatch points for the indexing kernels.
var (
	GatherRows     = GatherRowsRef
	ScatterAddRows = ScatterAddRowsRef
	Gather         = GatherRef
	ScatterAdd     = ScatterAddRef
)
