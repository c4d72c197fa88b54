package cpu

// GemmRef computes C = alpha*A@B + beta*C for one matrix product, with A [m,k]
// and B [k,n] given by element strides (so transposed views need no copy) and
// C [m,n] row-major with leading dimension ldc. Sums accumulate in float64.
// beta == 0 overwrites C without reading it.
func GemmRef(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	ParallelFor(m, n*k, func(lo, hi int) {
		acc := make([]float64, n)
		for i := lo; i < hi; i++ {
			clear(acc)
			for p := 0; p < k; p++ {
				av := float64(a[aOff+i*aRow+p*aCol])
				if av == 0 {
					continue
				}
				bo := bOff + p*bRow
				for j := 0; j < n; j++ {
					acc[j] += av * float64(b[bo+j*bCol])
				}
			}
			row := c[cOff+i*ldc : cOff+i*ldc+n]
			for j := range row {
				v := float32(float64(alpha) * acc[j])
				if beta != 0 {
					v += beta * row[j]
				}
				row[j] = v
			}
		}
	})
}

// Gemm is the dispatch point for matrix products.
var Gemm = GemmRef
