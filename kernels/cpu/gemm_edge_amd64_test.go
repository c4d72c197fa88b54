//go:build amd64

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmEdgeTilesMatchFullTile: the bottom rows of a product come out of
// the 4- and 8-row edge tiles with the bits the 14-row tile gives them (every
// element sums the same products in the same order; only the rows computed
// as padding differ), for every count of rows left over, panels cut by n, a
// k that is not a multiple of the unrolling, and beta zero or not.
func TestGemmEdgeTilesMatchFullTile(t *testing.T) {
	if !hasAVX512() {
		t.Skip("no AVX-512: the edge tiles are AVX-512 kernels")
	}
	full := &gemmKernel{mr: 14, nr: 32, kc: avx512Kernel.kc, mc: avx512Kernel.mc, nc: avx512Kernel.nc,
		tile: avx512Kernel.tile, tileB: avx512Kernel.tileB}
	r := rand.New(rand.NewPCG(7, 8))
	used := map[int]bool{}
	for left := 1; left <= 13; left++ {
		m := 28 + left
		if e := avx512Kernel.edgeFor(left); e != nil {
			used[e.rows] = true
		}
		for _, n := range []int{32, 45, 96} {
			for _, k := range []int{1, 7, 288} {
				for _, beta := range []float32{0, 0.5} {
					t.Run(fmt.Sprintf("m%d_n%d_k%d_beta%v", m, n, k, beta), func(t *testing.T) {
						a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						full.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, want, 0, n)
						avx512Kernel.gemm(m, n, k, 1.5, a, 0, k, 1, b, 0, n, 1, beta, got, 0, n)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("C[%d,%d] = %v, the 14-row tile gives %v", i/n, i%n, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
	for _, e := range avx512Kernel.edges {
		if !used[e.rows] {
			t.Errorf("the %d-row edge tile was never chosen", e.rows)
		}
	}
}
