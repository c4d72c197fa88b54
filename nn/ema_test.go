package nn

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/tensor"
)

type pair struct{ w, buf *autograd.Var }

func (p *pair) NamedParams(prefix string, out []Named) []Named {
	return append(out, Named{Name: Join(prefix, "w"), Var: p.w}, Named{Name: Join(prefix, "buf"), Var: p.buf, Buffer: true})
}

func TestEMAUpdate(t *testing.T) {
	avg := &pair{NewParam(tensor.New([]float32{0, 0}, 2)), NewBuffer(tensor.Zeros(1))}
	src := &pair{NewParam(tensor.New([]float32{1, 2}, 2)), NewBuffer(tensor.Ones(1))}
	if err := EMAUpdate(avg, src, 0.75); err != nil {
		t.Fatal(err)
	}
	w := avg.w.Value.ToSlice()
	if w[0] != 0.25 || w[1] != 0.5 || avg.buf.Value.Item() != 1 {
		t.Fatalf("ema result %v buffer %v", w, avg.buf.Value.Item())
	}
	bad := &pair{NewParam(tensor.Zeros(3)), NewBuffer(tensor.Zeros(1))}
	if err := EMAUpdate(bad, src, 0.5); err == nil {
		t.Fatal("shape mismatch accepted")
	}
	// Half-life of 10 kimg at batch 32: after 10k/32 steps the weight halves.
	beta := EMABeta(32, 10000, 0, 0)
	if got := math.Pow(float64(beta), 10000.0/32); math.Abs(got-0.5) > 1e-4 {
		t.Fatalf("half-life: β^steps = %v", got)
	}
	if EMABeta(32, 10000, 0.05, 0) != 0 {
		t.Fatal("ramp-up at 0 images must copy the weights")
	}
}
