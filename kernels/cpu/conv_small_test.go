package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The small convolutions' schedule with the weight packed once per call
// gives the references' products bit for bit, on every variant, for the
// references' edge-case shapes and two of the demo's (32 channels, 8x8 and
// 16x16 planes).
func TestSmallConvSharedWeightsKeepBits(t *testing.T) {
	geoms := map[string]ConvGeom{
		"demo_8x8":     geom(4, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"demo_16x16":   geom(3, 32, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"demo_1x1_rgb": geom(3, 32, 16, 16, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),
	}
	for name, g := range convGeoms {
		geoms[name] = g
	}
	defer func(v bool) { smallConvShareW = v }(smallConvShareW)
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for name, g := range geoms {
			if useConvGemm(g) {
				t.Fatalf("%s: %+v takes the GEMM schedule, not the small one", name, g)
			}
			r := rand.New(rand.NewPCG(5, uint64(len(name))))
			nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
			nw := g.Cout * g.Cin / g.Groups * g.KH * g.KW
			x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
			run := func(share bool) (y, gx []float32) {
				smallConvShareW = share
				y, gx = randSlice(r, ny), randSlice(r, nx) // overwritten whole
				Conv2dForward(g, x, w, b, y)
				Conv2dInputGrad(g, gy, w, gx)
				return y, gx
			}
			y, gx := run(true)
			wantY, wantGX := run(false)
			for what, pair := range map[string][2][]float32{"forward": {y, wantY}, "input gradient": {gx, wantGX}} {
				for i := range pair[1] {
					if pair[0][i] != pair[1][i] {
						t.Fatalf("%s %s %s: element %d = %v shared, %v per sample", variant, name, what, i, pair[0][i], pair[1][i])
					}
				}
			}
		}
	}
}

func BenchmarkSmallConvSharedWeights(b *testing.B) {
	g := geom(16, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	r := rand.New(rand.NewPCG(1, 2))
	nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
	x, w, gy := randSlice(r, nx), randSlice(r, g.Cout*g.Cin*9), randSlice(r, ny)
	y, gx := make([]float32, ny), make([]float32, nx)
	defer func(v bool) { smallConvShareW = v }(smallConvShareW)
	for _, share := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", share), func(b *testing.B) {
			smallConvShareW = share
			for b.Loop() {
				Conv2dForward(g, x, w, nil, y)
				Conv2dInputGrad(g, gy, w, gx)
			}
		})
	}
}
