//go:build amd64

package cpu

// Assembly micro-kernels (sgemm_amd64.s); see gemmKernel.tile for the contract.

//go:noescape
func sgemmTile14x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmTile6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// Blocking: the B micro-panel (kc x nr) is reused across a whole A block and
// should stay in the 32 KiB L1; the A block (mc x kc) in L2; the B block in L3.
var (
	avx512Kernel = &gemmKernel{mr: 14, nr: 32, kc: 256, mc: 14 * 24, nc: 2048, tile: sgemmTile14x32AVX512}
	avx2Kernel   = &gemmKernel{mr: 6, nr: 16, kc: 256, mc: 6 * 32, nc: 2048, tile: sgemmTile6x16AVX2}
)

func gemmAVX512(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	avx512Kernel.gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, beta, c, cOff, ldc)
}

func gemmAVX2(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	avx2Kernel.gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, beta, c, cOff, ldc)
}

func gemmBatchedAVX512(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	avx512Kernel.gemmBatched(batch, m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, bStride, beta, c, cOff, ldc, cStride)
}

func gemmBatchedAVX2(batch, m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol, bStride int,
	beta float32, c []float32, cOff, ldc, cStride int) {
	avx2Kernel.gemmBatched(batch, m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, bStride, beta, c, cOff, ldc, cStride)
}
