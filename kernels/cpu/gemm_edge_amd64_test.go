//go:build amd64

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmEdgeTilesMatchFullTile: the bottom rows of a product come out of
// the edge tiles (AVX-512: 4 and 8 rows; AVX2: 2 and 4) with the bits the
// full tile gives them (every element sums the same products in the same
// order; only the rows computed as padding differ), for every count of rows
// left over, panels cut by n, a k that is not a multiple of the unrolling,
// and beta zero or not.
func TestGemmEdgeTilesMatchFullTile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		has    bool
		kernel *gemmKernel
	}{
		{"avx512", hasAVX512(), avx512Kernel},
		{"avx2", hasAVX2FMA(), avx2Kernel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.has {
				t.Skipf("this CPU has no %s", tc.name)
			}
			g := tc.kernel
			full := &gemmKernel{mr: g.mr, nr: g.nr, kc: g.kc, mc: g.mc, nc: g.nc, tile: g.tile, tileB: g.tileB, inPlace: g.inPlace}
			r := rand.New(rand.NewPCG(7, 8))
			used := map[int]bool{}
			for left := 1; left < g.mr; left++ {
				m := 2*g.mr + left
				if e := g.edgeFor(left); e != nil {
					used[e.rows] = true
				}
				for _, n := range []int{g.nr, g.nr + 13, 3 * g.nr} {
					for _, k := range []int{1, 7, 288} {
						for _, beta := range []float32{0, 0.5} {
							a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
							want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
							full.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, want, 0, n)
							g.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, got, 0, n)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("m %d n %d k %d beta %v: C[%d,%d] = %v, the %d-row tile gives %v",
										m, n, k, beta, i/n, i%n, got[i], g.mr, want[i])
								}
							}
						}
					}
				}
			}
			for _, e := range g.edges {
				if !used[e.rows] {
					t.Errorf("the %d-row edge tile was never chosen", e.rows)
				}
			}
		})
	}
}

// BenchmarkGemmEdgeRowsAVX2 is BenchmarkGemmEdgeRows for the AVX2 kernel's
// edge tiles, on the demo's 32-row products (32 = 5·6 + 2).
func BenchmarkGemmEdgeRowsAVX2(b *testing.B) {
	if !hasAVX2FMA() {
		b.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{32, 1024, 288}, {32, 288, 1024}, {64, 1024, 576}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, edges := range [][]edgeTile{nil, avx2Kernel.edges} {
			g := &gemmKernel{mr: 6, nr: 16, kc: avx2Kernel.kc, mc: avx2Kernel.mc, nc: avx2Kernel.nc, tile: avx2Kernel.tile, edges: edges}
			b.Run(fmt.Sprintf("%dx%dx%d/edges=%v", m, n, k, edges != nil), func(b *testing.B) {
				for b.Loop() {
					g.gemm(m, n, k, 1, a, 0, k, 1, bm, 0, n, 1, 0, c, 0, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// The AVX2 kernel's in-place rule on the shapes it was measured on: the
// stride-2 convolutions' narrow col under few rows of A is read in place;
// a Winograd product's wide B (rows of 4096 tiles), SGEMM 1024^3 and a
// narrow B under 4096 rows of A are packed.
func TestAVX2ReadsNarrowBInPlace(t *testing.T) {
	for _, c := range []struct {
		m, k, ldb int
		inPlace   bool
	}{{32, 288, 256, true}, {32, 288, 64, true}, {64, 576, 256, true}, {4096, 512, 512, false},
		{512, 512, 4096, false}, {1024, 1024, 1024, false}, {32, 288, 1024, false}} {
		if got := avx2Kernel.readsBInPlace(c.m, c.k, c.ldb); got != c.inPlace {
			t.Errorf("m %d, k %d, ldb %d: in place %v, want %v", c.m, c.k, c.ldb, got, c.inPlace)
		}
	}
}
