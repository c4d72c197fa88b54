package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// transposeRows against its definition on every variant, for lane and
// column counts on and off the 8x8 blocks, with strides wider than the
// data, leaving every other entry of dst alone.
func TestTransposeRows(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(3, 4))
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		for _, lanes := range []int{1, 7, 8, 13, 32} {
			for _, n := range []int{1, 5, 8, 17, 34} {
				srcStride, dstStride := n+3, lanes+2
				src := randSlice(r, lanes*srcStride)
				dst := make([]float32, n*dstStride)
				for i := range dst {
					dst[i] = -1
				}
				transposeRows(dst, dstStride, src, srcStride, n, lanes)
				for p := 0; p < n; p++ {
					for q := 0; q < dstStride; q++ {
						want := float32(-1)
						if q < lanes {
							want = src[q*srcStride+p]
						}
						if got := dst[p*dstStride+q]; got != want {
							t.Fatalf("%s lanes %d n %d: dst[%d,%d] = %v, want %v", variant, lanes, n, p, q, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkWeightGradChannelsLast: the demo's 3x3 weight gradients (32
// channels, batch 16) and one of 256 channels, from channels-first planes
// through the transposing pack (last=false) or from channels-last planes
// read in place (last=true).
func BenchmarkWeightGradChannelsLast(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, g := range []ConvGeom{geom(16, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1), geom(16, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1),
		geom(16, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1), geom(4, 256, 32, 32, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1)} {
		x, gy := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.N*g.Cout*g.OH*g.OW)
		gw := make([]float32, g.Cout*g.Cin*9)
		for _, last := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d_c%d/last=%v", g.H, g.W, g.Cin, last), func(b *testing.B) {
				defer func() { convChannelsLast = true }()
				convChannelsLast = last
				for b.Loop() {
					Conv2dWeightGrad(g, x, gy, gw)
				}
			})
		}
	}
}
