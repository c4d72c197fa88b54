package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestUpfirdn2dFastMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	for trial := 0; trial < 200; trial++ {
		c := Upfirdn2dConfig{Planes: 1 + r.IntN(3), InH: 1 + r.IntN(9), InW: 1 + r.IntN(9),
			UpX: 1 + r.IntN(3), UpY: 1 + r.IntN(3), DownX: 1 + r.IntN(3), DownY: 1 + r.IntN(3),
			PadX0: r.IntN(7) - 2, PadX1: r.IntN(7) - 2, PadY0: r.IntN(7) - 2, PadY1: r.IntN(7) - 2,
			FilterH: 1 + r.IntN(5), FilterW: 1 + r.IntN(5), FlipFilter: r.IntN(2) == 0, Gain: 0.5 + r.Float32()*3}
		if h, w := c.OutSize(); h < 1 || w < 1 {
			continue
		}
		h, w := c.OutSize()
		x, f := randSlice(r, c.Planes*c.InH*c.InW), randSlice(r, c.FilterH*c.FilterW)
		if trial%2 == 0 { // an exact outer product, as setup_filter makes: the separable path
			a, b := make([]float32, c.FilterH), make([]float32, c.FilterW)
			for i := range a {
				a[i] = float32(1 + r.IntN(4))
			}
			for j := range b {
				b[j] = float32(1 + r.IntN(4))
			}
			for i := range a {
				for j := range b {
					f[i*c.FilterW+j] = a[i] * b[j] / 64
				}
			}
			if _, _, ok := rankOneFactors(f, c.FilterH, c.FilterW); !ok {
				t.Fatalf("outer product %v x %v not recognised as separable", a, b)
			}
		}
		want, got := make([]float32, c.Planes*h*w), make([]float32, c.Planes*h*w)
		Upfirdn2dRef(want, x, f, c)
		for i := range got {
			got[i] = float32(math.NaN()) // every output must be written
		}
		Upfirdn2dFast(got, x, f, c)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*(1+math.Abs(float64(want[i])))) {
				t.Fatalf("trial %d %+v: y[%d] = %v, want %v", trial, c, i, got[i], want[i])
			}
		}
	}
}
