package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The GEMM-schedule convolutions against the direct loops: the references'
// edge-case shapes forced through that schedule, and a few big enough to
// take it on their own.
func TestConvGemmMatchesDirect(t *testing.T) {
	geoms := map[string]ConvGeom{
		"big_3x3_pad1": geom(2, 64, 14, 11, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"big_1x1":      geom(2, 96, 24, 24, 80, 1, 1, 1, 1, 0, 0, 1, 1, 1),
	}
	for name, g := range geoms {
		if !useConvGemm(g) {
			t.Fatalf("%s: %+v is too small for the GEMM schedule", name, g)
		}
	}
	for name, g := range convGeoms {
		geoms[name] = g
	}
	defer func(v int) { convGemmMinFlops = v }(convGemmMinFlops)
	convGemmMinFlops = 0
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for name, g := range geoms {
			r := rand.New(rand.NewPCG(3, uint64(len(name))))
			nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
			nw := g.Cout * g.Cin / g.Groups * g.KH * g.KW
			x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
			nan := func(n int) []float32 {
				s := make([]float32, n)
				for i := range s {
					s[i] = float32(math.NaN())
				}
				return s
			}
			// Sums run over up to Cin·KH·KW ≈ 600 products: float32
			// accumulation stays within the tolerance of assertClose scaled.
			check := func(what string, got, want []float32) {
				t.Helper()
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-4*(1+math.Abs(float64(want[i])))) {
						t.Fatalf("%s %s %s: element %d = %v, want %v", variant, name, what, i, got[i], want[i])
					}
				}
			}
			got, want := nan(ny), make([]float32, ny)
			Conv2dForward(g, x, w, b, got)
			Conv2dDirect(g, x, w, b, want)
			check("forward", got, want)
			gotX, wantX := nan(nx), make([]float32, nx)
			Conv2dInputGrad(g, gy, w, gotX)
			Conv2dInputGradDirect(g, gy, w, wantX)
			check("input grad", gotX, wantX)
			gotW, wantW := nan(nw), make([]float32, nw)
			Conv2dWeightGrad(g, x, gy, gotW)
			Conv2dWeightGradDirect(g, x, gy, wantW)
			check("weight grad", gotW, wantW)
		}
	}
}
