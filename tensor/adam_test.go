package tensor

import (
	"math"
	"testing"
)

// The host step scales and cleans the gradient as it reads it; the result
// must be that of scaling (MulScalar) and cleaning (NanToNum) a copy first,
// bit for bit, including values the scale pushes to infinity and a
// transposed gradient.
func TestAdamStepScalesAndCleansInPlace(t *testing.T) {
	rng := NewRNG(7)
	g := rng.Normal(6, 5)
	gd := g.Data()
	gd[1], gd[7], gd[8], gd[12] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e38
	gd[13] = -3e38
	gt := g.Transpose(0, 1) // [5, 6], not contiguous
	a := AdamParams{LR: 0.01, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, Step: 3, InfTo: 1e5, GradScale: 4}
	p0, m0, v0 := rng.Normal(5, 6), rng.Normal(5, 6), Abs(rng.Normal(5, 6))

	p, m, v := p0.Clone(), m0.Clone(), v0.Clone()
	AdamStep(p, gt, m, v, a)

	clean := NanToNum(MulScalar(gt, a.GradScale), 0, a.InfTo, -a.InfTo)
	plain := a
	plain.GradScale, plain.InfTo = 1, 0
	pw, mw, vw := p0.Clone(), m0.Clone(), v0.Clone()
	AdamStep(pw, clean, mw, vw, plain)

	for _, c := range []struct {
		name      string
		got, want *Tensor
	}{{"p", p, pw}, {"m", m, mw}, {"v", v, vw}} {
		got, want := c.got.Data(), c.want.Data()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.IsNaN(float64(got[i])) {
				t.Fatalf("%s[%d] = %v, want %v", c.name, i, got[i], want[i])
			}
		}
	}
	if gd[1] == gd[1] || !math.IsInf(float64(gd[7]), 1) {
		t.Fatal("AdamStep changed its gradient")
	}
}
