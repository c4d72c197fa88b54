//go:build amd64

package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmBlocking sweeps the cache blocking of the AVX-512 kernel at
// 1024³ (run on a quiet machine: go test -bench GemmBlocking -benchtime 20x).
func BenchmarkGemmBlocking(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const m, n, k = 1024, 1024, 1024
	a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for _, kc := range []int{128, 192, 256, 384} {
		for _, mcPanels := range []int{12, 24, 36} {
			for _, nc := range []int{512, 2048} {
				g := &gemmKernel{mr: 14, nr: 32, kc: kc, mc: 14 * mcPanels, nc: nc, tile: avx512Kernel.tile}
				b.Run(fmt.Sprintf("kc%d/mc%d/nc%d", kc, g.mc, nc), func(b *testing.B) {
					for b.Loop() {
						g.gemm(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
