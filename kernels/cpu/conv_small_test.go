package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The small convolutions' schedule with the weight packed once per call,
// and its weight gradient packing colᵀ from the padded input, give the
// references' results bit for bit, on every variant, for the references'
// edge-case shapes and three of the demo's (32 channels, 8x8 and 16x16
// planes).
func TestSmallConvSharedWeightsKeepBits(t *testing.T) {
	geoms := map[string]ConvGeom{
		"demo_8x8":     geom(4, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"demo_16x16":   geom(3, 32, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		"demo_1x1_rgb": geom(3, 32, 16, 16, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1),
		// Strided, rows of whole panels: the implicit path with y's rows
		// written directly.
		"demo_down_2": geom(3, 32, 33, 33, 32, 3, 3, 2, 2, 0, 0, 1, 1, 1),
		"patch_4":     geom(2, 3, 64, 64, 8, 4, 4, 4, 4, 0, 0, 1, 1, 1),
	}
	for name, g := range convGeoms {
		geoms[name] = g
	}
	defer func(v, i bool) { smallConvShareW, convImplicit = v, i }(smallConvShareW, convImplicit)
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
			run := func(fast bool) (y, gx, gw []float32) {
				smallConvShareW, convImplicit = fast, fast
				y, gx, gw = randSlice(r, ny), randSlice(r, nx), randSlice(r, nw) // overwritten whole
				Conv2dForward(g, x, w, b, y)
				Conv2dInputGrad(g, gy, w, gx)
				Conv2dWeightGrad(g, x, gy, gw)
				return y, gx, gw
			}
			y, gx, gw := run(true)
			wantY, wantGX, wantGW := run(false)
			for what, pair := range map[string][2][]float32{"forward": {y, wantY}, "input gradient": {gx, wantGX}, "weight gradient": {gw, wantGW}} {
				for i := range pair[1] {
					if pair[0][i] != pair[1][i] {
						t.Fatalf("%s %s %s: element %d = %v fast, %v reference", variant, name, what, i, pair[0][i], pair[1][i])
					}
				}
			}
		}
	}
}

// BenchmarkSmallConv: a demo-sized 3x3 convolution's forward, input and
// weight gradients on the small convolutions' schedule, the references'
// way (fast=false) and with the weight packed once and colᵀ packed from
// the padded input (fast=true).
func BenchmarkSmallConv(b *testing.B) {
	g := geom(16, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	r := rand.New(rand.NewPCG(1, 2))
	nx, ny, nw := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW, g.Cout*g.Cin*9
	x, w, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, ny)
	y, gx, gw := make([]float32, ny), make([]float32, nx), make([]float32, nw)
	defer func(v, i bool) { smallConvShareW, convImplicit = v, i }(smallConvShareW, convImplicit)
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("fast=%v", fast), func(b *testing.B) {
			smallConvShareW, convImplicit = fast, fast
			for b.Loop() {
				Conv2dForward(g, x, w, nil, y)
				Conv2dInputGrad(g, gy, w, gx)
				Conv2dWeightGrad(g, x, gy, gw)
			}
		})
	}
}
