package cpu

// GemmBatchedRef computes C_s = alpha*A@B_s + beta*C_s for s < batch: one A
// shared by all, B_s at bOff + s*bStride and C_s at cOff + s*cStride, each
// otherwise as in GemmRef (a convolution's weight against every sample).
func GemmBatchedRef(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	for s := 0; s < batch; s++ {
		GemmRef(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff+s*bStride, bRow, bCol, beta, c, cOff+s*cStride, ldc)
	}
}

// GemmBatched is the dispatch point for batched products sharing A; the
// packed variants pack A once for the whole batch.
var GemmBatched = GemmBatchedRef

func gemmBatchedGeneric(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	genericKernel.gemmBatched(batch, m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, bStride, beta, c, cOff, ldc, cStride)
}
