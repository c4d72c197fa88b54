package nn

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
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

// TestEMAUpdateOnDevice: with the parameters on the (emulated) GPU the
// update runs as device ops and never reads them on the host; its float32
// operations are the host loop's, so the results agree bit for bit.
func TestEMAUpdateOnDevice(t *testing.T) {
	e := emu.New()
	defer tensor.UseCUDABackend(e, e.Props())()
	rng := tensor.NewRNG(7)
	mk := func() *pair { return &pair{NewParam(rng.Normal(3, 5)), NewBuffer(rng.Normal(4))} }
	avgH, srcH := mk(), mk()
	avgD := &pair{NewParam(avgH.w.Value.Clone()), NewBuffer(avgH.buf.Value.Clone())}
	srcD := &pair{NewParam(srcH.w.Value.Clone()), NewBuffer(srcH.buf.Value.Clone())}
	MoveTo(avgD, tensor.CUDA)
	MoveTo(srcD, tensor.CUDA)
	c0 := tensor.CUDATransfers()
	for _, beta := range []float32{0.9, 0.37} {
		if err := EMAUpdate(avgH, srcH, beta); err != nil {
			t.Fatal(err)
		}
		if err := EMAUpdate(avgD, srcD, beta); err != nil {
			t.Fatal(err)
		}
	}
	if c := tensor.CUDATransfers().Sub(c0); c.DtoH != 0 || c.HtoD != 0 {
		t.Fatalf("EMA on the GPU copied between host and device: %+v", c)
	}
	if avgD.w.Value.Device() != tensor.CUDA {
		t.Fatal("the average left the GPU")
	}
	got, want := avgD.w.Value.ToSlice(), avgH.w.Value.ToSlice()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("element %d: device %v, host %v", i, got[i], want[i])
		}
	}
	if g, w := avgD.buf.Value.ToSlice(), srcH.buf.Value.ToSlice(); g[3] != w[3] {
		t.Fatalf("buffer not copied: %v vs %v", g, w)
	}
}
