package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Winograd F(2x2,3x3) against the direct loops, on odd and even sizes, every
// padding the input-gradient rewrite produces (0, 1, 2 and beyond), and
// sample counts that split into several chunks.
func TestConvWinogradMatchesDirect(t *testing.T) {
	defer func(v, c int) { convGemmMinFlops, winogradMinChannels = v, c }(convGemmMinFlops, winogradMinChannels)
	convGemmMinFlops, winogradMinChannels = 0, 16
	prev := ActiveVariant()
	defer UseVariant(prev)
	geoms := []ConvGeom{
		geom(2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(3, 24, 7, 9, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(1, 16, 6, 5, 32, 3, 3, 1, 1, 0, 0, 1, 1, 1),
		geom(2, 20, 5, 6, 16, 3, 3, 1, 1, 2, 2, 1, 1, 1),
		geom(1, 16, 4, 4, 16, 3, 3, 1, 1, 3, 1, 1, 1, 1),
		geom(2, 32, 2, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	}
	for _, g := range geoms {
		if !useWinograd(g) {
			t.Fatalf("%+v does not take the Winograd path", g)
		}
	}
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for gi, g := range geoms {
			r := rand.New(rand.NewPCG(8, uint64(gi)))
			nx, ny := g.N*g.Cin*g.H*g.W, g.N*g.Cout*g.OH*g.OW
			nw := g.Cout * g.Cin * 9
			x, w, b, gy := randSlice(r, nx), randSlice(r, nw), randSlice(r, g.Cout), randSlice(r, ny)
			name := fmt.Sprintf("%s %+v", variant, g)
			got, want := nanSlice(ny), make([]float32, ny)
			Conv2dForward(g, x, w, b, got)
			Conv2dDirect(g, x, w, b, want)
			checkWinograd(t, name+" forward", got, want, g.Cin*9)
			gotX, wantX := nanSlice(nx), make([]float32, nx)
			Conv2dInputGrad(g, gy, w, gotX)
			Conv2dInputGradDirect(g, gy, w, wantX)
			checkWinograd(t, name+" input grad", gotX, wantX, g.Cout*9)
			gotW, wantW := nanSlice(nw), make([]float32, nw)
			Conv2dWeightGrad(g, x, gy, gotW)
			Conv2dWeightGradDirect(g, x, gy, wantW)
			checkWinograd(t, name+" weight grad", gotW, wantW, g.N*g.OH*g.OW)
		}
	}
}

// The chunking of samples (winogradTileFloats) must not change results.
func TestConvWinogradChunks(t *testing.T) {
	defer func(c int) { winogradMinChannels = c }(winogradMinChannels)
	winogradMinChannels = 16
	g := geom(5, 64, 20, 20, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	if !useWinograd(g) {
		t.Fatalf("%+v does not take the Winograd path", g)
	}
	r := rand.New(rand.NewPCG(9, 9))
	x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
	defer func(v int) { winogradTileFloats = v }(winogradTileFloats)
	winogradTileFloats = 2 * 16 * 100 * 128 // two samples a chunk: 2, 2, 1
	want := make([]float32, g.N*g.Cout*g.OH*g.OW)
	Conv2dDirect(g, x, w, nil, want)
	got := nanSlice(len(want))
	conv2dForwardWinograd(g, x, w, nil, got)
	checkWinograd(t, "chunked", got, want, g.Cin*9)
	gy := randSlice(r, len(want))
	wantW := make([]float32, len(w))
	Conv2dWeightGradDirect(g, x, gy, wantW)
	gotW := nanSlice(len(w))
	conv2dWeightGradWinograd(g, x, gy, gotW)
	checkWinograd(t, "chunked weight grad", gotW, wantW, g.N*g.OH*g.OW)
}

// checkWinograd allows the rounding of a sum of terms products plus the
// transforms' few additions: relative to the magnitude the sum can reach.
func checkWinograd(t *testing.T, what string, got, want []float32, terms int) {
	t.Helper()
	tol := 2e-6 * float64(terms)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: element %d = %v, want %v (tolerance %.1e)", what, i, got[i], want[i], tol)
		}
	}
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// BenchmarkConvWinograd compares the Winograd and im2col schedules on the
// conv3x3_n4_c512_16 workload and a StyleGAN layer at 32x32.
func BenchmarkConvWinograd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, g := range []ConvGeom{
		geom(4, 512, 16, 16, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(4, 512, 32, 32, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
	} {
		x, w := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.Cout*g.Cin*9)
		y := make([]float32, g.N*g.Cout*g.OH*g.OW)
		for _, on := range []bool{true, false} {
			b.Run(fmt.Sprintf("n%d_c%d_%d/winograd=%v", g.N, g.Cin, g.H, on), func(b *testing.B) {
				defer func(v bool, c int) { convWinograd, winogradMinChannels = v, c }(convWinograd, winogradMinChannels)
				convWinograd, winogradMinChannels = on, 16
				b.ReportAllocs()
				for b.Loop() {
					Conv2dForward(g, x, w, nil, y)
				}
				b.ReportMetric(2*float64(g.N*g.Cout*g.Cin*9*g.OH*g.OW)*float64(b.N)/b.Elapsed().Seconds()/1e9, "directGFLOP/s")
			})
		}
	}
}
