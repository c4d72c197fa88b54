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

// Large updates are split between the workers; every element must still get
// exactly the one-element formula's bits (no element skipped or done twice).
func TestAdamAndEMASplitBetweenWorkersMatchOneElementAtATime(t *testing.T) {
	const n = 3<<14 + 5
	rng := NewRNG(11)
	p, g, m, v := rng.Normal(n), rng.Normal(n), rng.Normal(n), Abs(rng.Normal(n))
	a := AdamParams{LR: 0.002, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Step: 7, InfTo: 1e5}
	want := make([]float32, n)
	bc1, bc2 := 1-math.Pow(float64(a.Beta1), 7), 1-math.Pow(float64(a.Beta2), 7)
	for j := range want {
		gj := g.Data()[j]
		mj := a.Beta1*m.Data()[j] + (1-a.Beta1)*gj
		vj := a.Beta2*v.Data()[j] + (1-a.Beta2)*gj*gj
		den := math.Sqrt(float64(vj))/math.Sqrt(bc2) + float64(a.Eps)
		want[j] = p.Data()[j] - float32(float64(a.LR)/bc1*float64(mj)/den)
	}
	AdamStep(p, g, m, v, a)
	for j, w := range want {
		if math.Float32bits(p.Data()[j]) != math.Float32bits(w) {
			t.Fatalf("adam: element %d = %v, want %v", j, p.Data()[j], w)
		}
	}

	avg, src := rng.Normal(n), rng.Normal(n)
	const beta = 0.99
	wantAvg := make([]float32, n)
	for j := range wantAvg {
		s := src.Data()[j]
		wantAvg[j] = s + float32(beta*float32(avg.Data()[j]-s))
	}
	EMAUpdate(avg, src, beta)
	for j, w := range wantAvg {
		if math.Float32bits(avg.Data()[j]) != math.Float32bits(w) {
			t.Fatalf("ema: element %d = %v, want %v", j, avg.Data()[j], w)
		}
	}
}
