//go:build amd64

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGemmEdgeTilesMatchFullTile: the bottom rows of a product come out of
// the edge tiles (AVX-512: 4 and 8 rows; AVX2: 2 and 4) and the pair tile
// (AVX2: the last full panel as 4 + 2 rows, its 2 with the short panel's)
// with the bits the full tile gives them (every element sums the same
// products in the same order; only the rows computed as padding differ),
// for every count of rows left over after none or two full panels, panels
// cut by n, a k that is not a multiple of the unrolling, beta zero or not,
// and B packed, read in place or read through a row table.
func TestGemmEdgeTilesMatchFullTile(t *testing.T) {
	defer func(d bool) { gemmDirectB = d }(gemmDirectB)
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
			used, pairUsed := map[int]bool{}, false
			for left := 1; left < g.mr; left++ {
				for _, m := range []int{left, 2*g.mr + left} {
					if g.pair != nil && m > g.mr && left <= g.pair.rows {
						pairUsed = true
					} else if e := g.edgeFor(left); e != nil {
						used[e.rows] = true
					}
					for _, n := range []int{g.nr, g.nr + 13, 3 * g.nr} {
						for _, k := range []int{1, 7, 288} {
							for _, beta := range []float32{0, 0.5} {
								a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
								want := slices.Clone(c0)
								full.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, want, 0, n)
								rows := make([]int, k)
								for p := range rows {
									rows[p] = p * n
								}
								for _, direct := range []bool{true, false} {
									gemmDirectB = direct
									got := slices.Clone(c0)
									g.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, got, 0, n)
									viaRows := slices.Clone(c0)
									g.gemmBatchedRows(1, m, n, k, 1.5, a, 0, k, 1, b, 0, rows, 0, beta, viaRows, 0, n, 0)
									for i := range got {
										for path, v := range map[string]float32{"strided": got[i], "row table": viaRows[i]} {
											if math.Float32bits(v) != math.Float32bits(want[i]) {
												t.Fatalf("m %d n %d k %d beta %v direct %v, B %s: C[%d,%d] = %v, the %d-row tile gives %v",
													m, n, k, beta, direct, path, i/n, i%n, v, g.mr, want[i])
											}
										}
									}
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
			if g.pair != nil && !pairUsed {
				t.Error("the pair tile was never chosen")
			}
		})
	}
}

// BenchmarkGemmEdgeRowsAVX2 is BenchmarkGemmEdgeRows for the AVX2 kernel's
// edge and pair tiles, on the demo's 32-row products (32 = 5·6 + 2) and
// 64 = 10·6 + 4: the full tile for the bottom rows, the edge tiles, and the
// edge tiles with the pair tile (32 = 4·6 + 4 + (2+2)).
func BenchmarkGemmEdgeRowsAVX2(b *testing.B) {
	if !hasAVX2FMA() {
		b.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{32, 1024, 288}, {32, 288, 1024}, {8, 4096, 288}, {64, 1024, 576}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, tiles := range []string{"full", "edges", "pair"} {
			g := &gemmKernel{mr: 6, nr: 16, kc: avx2Kernel.kc, mc: avx2Kernel.mc, nc: avx2Kernel.nc, tile: avx2Kernel.tile}
			if tiles != "full" {
				g.edges = avx2Kernel.edges
			}
			if tiles == "pair" {
				g.pair = avx2Kernel.pair
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, tiles), func(b *testing.B) {
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
