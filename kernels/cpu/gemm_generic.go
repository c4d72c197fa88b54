package cpu

// genericKernel is the portable micro-kernel: a 4x4 tile of scalar
// accumulators, few enough to stay in registers on every 64-bit target.
var genericKernel = &gemmKernel{mr: 4, nr: 4, kc: 256, mc: 128, nc: 2048, tile: tile4x4Generic}

// gemmGeneric is the packed SGEMM on the portable micro-kernel; it has
// GemmRef's signature and semantics with float32 accumulation.
func gemmGeneric(m, n, k int, alpha float32,
	a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int,
	beta float32, c []float32, cOff, ldc int) {
	genericKernel.gemm(m, n, k, alpha, a, aOff, aRow, aCol, b, bOff, bRow, bCol, beta, c, cOff, ldc)
}

func tile4x4Generic(kc int, ap, bp, cp *float32, ldc int, alpha, beta float32) {
	a := floats(ap, kc*4)
	b := floats(bp, kc*4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		av := a[p*4 : p*4+4 : p*4+4]
		bv := b[p*4 : p*4+4 : p*4+4]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		a0 := av[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := av[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := av[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := av[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := floats(cp, 3*ldc+4)
	acc := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	for r := 0; r < 4; r++ {
		row := c[r*ldc : r*ldc+4]
		for q := range row {
			v := alpha * acc[r*4+q]
			if beta != 0 {
				v += beta * row[q]
			}
			row[q] = v
		}
	}
}
