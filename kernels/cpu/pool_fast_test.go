package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The faster pools give the references' bits on every geometry: windows
// clipped by padding, strides over and under the kernel, -0 and NaN
// inputs, both divisors of the average.
func TestFastPoolsMatchReferencesBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		kh, kw := 1+rng.IntN(4), 1+rng.IntN(4)
		g := PoolGeom{Planes: 1 + rng.IntN(3), H: kh + rng.IntN(9), W: kw + rng.IntN(9), KH: kh, KW: kw,
			SH: 1 + rng.IntN(3), SW: 1 + rng.IntN(3), PH: rng.IntN(kh/2 + 1), PW: rng.IntN(kw/2 + 1), CountIncludePad: trial%2 == 0}
		g.OH, g.OW = (g.H+2*g.PH-kh)/g.SH+1, (g.W+2*g.PW-kw)/g.SW+1
		x := make([]float32, g.Planes*g.H*g.W)
		for i := range x {
			switch rng.IntN(20) {
			case 0:
				x[i] = float32(math.Copysign(0, -1))
			case 1:
				if trial%3 == 0 {
					x[i] = float32(math.NaN())
				}
			default:
				x[i] = float32(rng.NormFloat64()) - 2
			}
		}
		n := g.Planes * g.OH * g.OW
		for _, c := range []struct {
			name      string
			fast, ref func(PoolGeom, []float32, []float32)
		}{{"avg", avgPool2dSpans, AvgPool2dRef}, {"max", maxPool2dSeparable, MaxPool2dRef}} {
			got, want := make([]float32, n), make([]float32, n)
			c.fast(g, x, got)
			c.ref(g, x, want)
			for i := range got {
				same := math.Float32bits(got[i]) == math.Float32bits(want[i]) || got[i] != got[i] && want[i] != want[i]
				if !same {
					t.Fatalf("%s pool %+v: output %d = %v (%#x), reference %v (%#x)", c.name, g, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
}
