//go:build amd64

package cpu

// Assembly micro-kernels (sgemm_amd64.s); see gemmKernel.tile for the contract.

//go:noescape
func sgemmTile14x32BStrideAVX512(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)

// sgemmTile14x32AVX512 is the tile on a packed B panel (rows 32 apart).
func sgemmTile14x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	sgemmTile14x32BStrideAVX512(kc, a, b, c, ldc, 32, alpha, beta)
}

// sgemmTile8x32AVX512 is an edge tile: A's values for one step of k lda
// floats apart (a packed panel's mr), B rows ldb apart.
//
//go:noescape
func sgemmTile8x32AVX512(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)

// sgemmTile4x32AVX512 is the 8x32 tile's contract for 4 rows.
//
//go:noescape
func sgemmTile4x32AVX512(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)

// sgemmTile14x32BRowsAVX512 and the BRows edge tiles read row p of B at
// b + rows[p] floats (gemmKernel.tileRows).
//
//go:noescape
func sgemmTile14x32BRowsAVX512(kc int, a, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmTile8x32BRowsAVX512(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmTile4x32BRowsAVX512(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

// sgemmTile6x16AVX2 is the AVX2 tile on a packed B panel (rows 16 apart).
func sgemmTile6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	sgemmTile6x16BStrideAVX2(kc, a, b, c, ldc, 16, alpha, beta)
}

// sgemmTile4x16AVX2 and sgemmTile2x16AVX2 are the AVX2 kernel's edge tiles
// (the 8x32 tile's contract, 16 columns).
//
//go:noescape
func sgemmTile4x16AVX2(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)

//go:noescape
func sgemmTile2x16AVX2(kc int, a *float32, lda int, b, c *float32, ldc, ldb int, alpha, beta float32)

// sgemmTilePair2x16AVX2 is the AVX2 kernel's pair tile (gemmKernel.pair):
// rows 0-1 at a, rows 2-3 at a2, both lda floats apart per step of k.
//
//go:noescape
func sgemmTilePair2x16AVX2(kc int, a *float32, lda int, a2, b, c *float32, ldc, ldb int, alpha, beta float32)

//go:noescape
func sgemmTilePair2x16BRowsAVX2(kc int, a *float32, lda int, a2, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

// sgemmTile6x16BStrideAVX2 is the 6x16 tile with row p of B at b + p·ldb
// (16 in a packed panel; B's row stride when read in place).
//
//go:noescape
func sgemmTile6x16BStrideAVX2(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)

// The AVX2 BRows tiles read row p of B at b + rows[p] floats, as the
// AVX-512 ones do.
//
//go:noescape
func sgemmTile6x16BRowsAVX2(kc int, a, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmTile4x16BRowsAVX2(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmTile2x16BRowsAVX2(kc int, a *float32, lda int, b *float32, rows *int, c *float32, ldc int, alpha, beta float32)

// Blocking: each block of kc rows is one pass over C, and C of a large
// product lives in L3 or memory, so deep blocks win even though the B
// micro-panel (kc x nr) then sits in L2 rather than L1: on the Zen 4 machine
// of bench/NOTES.md, 1024³ went from 149 (kc 256) to 179-203 GFLOP/s
// (kc 1024), and [512,4608]x[4608,1024] from 129 to 155
// (BenchmarkGemmBlocking). The A block (mc x kc, split further between the
// workers) stays in L2, the B block in L3.
var (
	avx512Kernel = &gemmKernel{mr: 14, nr: 32, kc: 1024, mc: 14 * 24, nc: 2048, tile: sgemmTile14x32AVX512,
		tileB: sgemmTile14x32BStrideAVX512, inPlace: readBInPlace, tileRows: sgemmTile14x32BRowsAVX512,
		edges: []edgeTile{{4, sgemmTile4x32AVX512, sgemmTile4x32BRowsAVX512}, {8, sgemmTile8x32AVX512, sgemmTile8x32BRowsAVX512}}}
	avx2Kernel = &gemmKernel{mr: 6, nr: 16, kc: 512, mc: 6 * 32, nc: 2048, tile: sgemmTile6x16AVX2,
		tileB: sgemmTile6x16BStrideAVX2, inPlace: narrowBInPlace, tileRows: sgemmTile6x16BRowsAVX2,
		edges: []edgeTile{{2, sgemmTile2x16AVX2, sgemmTile2x16BRowsAVX2}, {4, sgemmTile4x16AVX2, sgemmTile4x16BRowsAVX2}},
		pair:  &pairTile{2, sgemmTilePair2x16AVX2, sgemmTilePair2x16BRowsAVX2}}
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

// narrowBInPlace is the AVX2 kernel's rule for reading row-major B in place:
// rows at most 2 KB apart, against at most 128 rows of A. With 16-column
// panels every step of k reads one 64-byte line of a row. On a Zen 3 VM
// (BenchmarkGemmDirectB) in place lost where many rows of A reuse each
// packed panel or B's rows are a page or more apart (4096x512x512: 110
// against 132 GFLOP/s packed; 512x4096x512: 50 against 110), was even at
// 512x256x512 and 32x1024x288, and won for the stride-2 convolutions' col,
// few rows of A over a narrow B (32x256x288: 58-69 against 38-49 GFLOP/s on
// one core; 64x256x576: 60-69 against 50-62).
func narrowBInPlace(m, k, ldb int) bool { return m <= 128 && ldb <= 512 }
