package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// demodOneAtATime is DemodRef's definition, one coefficient after another.
func demodOneAtATime(n, o, in, kk int, weight, styles []float32, eps float32, d []float32) {
	for b := 0; b < n; b++ {
		for oc := 0; oc < o; oc++ {
			var s float64
			for ic := 0; ic < in; ic++ {
				var w float64
				for _, v := range weight[(oc*in+ic)*kk : (oc*in+ic+1)*kk] {
					w += float64(v) * float64(v)
				}
				st := float64(styles[b*in+ic])
				s += st * st * w
			}
			d[b*o+oc] = float32(1 / math.Sqrt(s+float64(eps)))
		}
	}
}

// TestDemodSplitsChangeNoBits: DemodRef's split over filters and samples and
// its four side-by-side dot products give the one-at-a-time loop's bits, for
// filter counts around the group of four and sizes that split between
// workers or not.
func TestDemodSplitsChangeNoBits(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, sh := range [][4]int{{1, 1, 1, 1}, {2, 3, 5, 9}, {3, 4, 7, 1}, {4, 7, 16, 9}, {4, 64, 512, 9}, {2, 130, 300, 9}} {
		n, o, in, kk := sh[0], sh[1], sh[2], sh[3]
		w, s := randSlice(r, o*in*kk), randSlice(r, n*in)
		got, want := make([]float32, n*o), make([]float32, n*o)
		DemodRef(n, o, in, kk, w, s, 1e-8, got)
		demodOneAtATime(n, o, in, kk, w, s, 1e-8, want)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: d[%d] = %v, one at a time %v", sh, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkDemod is a 512-channel 3x3 layer's coefficients for a batch of 4
// (the 64x64 workloads' synthesis layers).
func BenchmarkDemod(b *testing.B) {
	r := rand.New(rand.NewPCG(53, 54))
	const n, o, in, kk = 4, 512, 512, 9
	w, s, d := randSlice(r, o*in*kk), randSlice(r, n*in), make([]float32, n*o)
	for b.Loop() {
		DemodRef(n, o, in, kk, w, s, 1e-8, d)
	}
}
