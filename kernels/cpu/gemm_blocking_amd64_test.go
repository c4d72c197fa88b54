//go:build amd64

package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmBlocking sweeps the depth kc of the packed blocks of the
// best kernel this CPU has (AVX-512's 14x32 tile, else AVX2's 6x16) on the
// shapes of the benchmark workloads (run on a quiet machine, with
// GOMAXPROCS 1 and the machine's count: go test -bench GemmBlocking
// -benchtime 20x).
func BenchmarkGemmBlocking(b *testing.B) {
	best, kcs := avx2Kernel, []int{256, 384, 512, 768}
	if hasAVX512() {
		best, kcs = avx512Kernel, []int{256, 512, 768, 1024}
	} else if !hasAVX2FMA() {
		b.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1024, 1024, 1024}, {4096, 512, 512}, {512, 1024, 4608}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, kc := range kcs {
			g := &gemmKernel{mr: best.mr, nr: best.nr, kc: kc, mc: best.mc, nc: best.nc, tile: best.tile,
				tileB: best.tileB, inPlace: best.inPlace, tileRows: best.tileRows, edges: best.edges}
			b.Run(fmt.Sprintf("%dx%dx%d/kc%d", m, n, k, kc), func(b *testing.B) {
				for b.Loop() {
					g.gemm(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmEdgeRows compares the bottom rows of products whose row count
// leaves a few rows over 14 computed by the edge tiles (4 or 8 rows) and by
// the full 14-row tile (interleave -count runs on a quiet machine).
func BenchmarkGemmEdgeRows(b *testing.B) {
	if !hasAVX512() {
		b.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{1024, 1024, 1024}, {512, 1024, 1152}, {4096, 512, 512}, {32, 1024, 288}, {32, 288, 1024}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, edges := range [][]edgeTile{nil, avx512Kernel.edges[len(avx512Kernel.edges)-1:], avx512Kernel.edges} {
			g := &gemmKernel{mr: 14, nr: 32, kc: avx512Kernel.kc, mc: avx512Kernel.mc, nc: avx512Kernel.nc, tile: avx512Kernel.tile, tileB: avx512Kernel.tileB, inPlace: avx512Kernel.inPlace, edges: edges}
			rows := ""
			for _, e := range edges {
				rows += fmt.Sprint(e.rows)
			}
			b.Run(fmt.Sprintf("%dx%dx%d/edges=%s", m, n, k, rows), func(b *testing.B) {
				for b.Loop() {
					g.gemm(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
