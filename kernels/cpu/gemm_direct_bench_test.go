package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmDirectB compares reading row-major B in place (tileB) with
// packing it, on the active variant, for the shapes its in-place rule decides:
// many rows of A (each B panel reused by many row blocks), the Winograd
// GEMMs' shallow, wide B, and the demo's 32-row products.
func BenchmarkGemmDirectB(b *testing.B) {
	defer func(v bool) { gemmDirectB = v }(gemmDirectB)
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{4096, 512, 512}, {1024, 1024, 1024}, {512, 4096, 512}, {256, 4096, 256}, {32, 1024, 288}, {512, 256, 4608}, {32, 256, 288}, {32, 64, 288}, {64, 256, 576}, {512, 256, 512}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, direct := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%dx%d/direct=%v", m, n, k, direct), func(b *testing.B) {
				gemmDirectB = direct
				for b.Loop() {
					Gemm(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
