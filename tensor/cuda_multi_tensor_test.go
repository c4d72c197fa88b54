package tensor

import (
	"math"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// multiSizes: 60 tensors (two launches of cuda.MultiMax), empty ones, one
// element, and sizes on either side of a block's chunk.
func multiSizes() []int {
	var out []int
	for i := 0; i < 60; i++ {
		out = append(out, []int{0, 1, 7, cuda.MultiChunk - 1, cuda.MultiChunk, cuda.MultiChunk + 1, 3*cuda.MultiChunk + 5, 300}[i%8])
	}
	return out
}

// AdamStepAll on the GPU takes two launches for 60 tensors and leaves every
// tensor as AdamStep, one launch each, does (the same per-element code), and
// as the host does within float32 rounding; a transposed gradient is read
// through a contiguous copy.
func TestAdamStepAllMatchesAdamStep(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	rng := NewRNG(11)
	sizes := multiSizes()
	var ps, gs, ms, vs []*Tensor                 // host
	var pa, ga, ma, va, pb, gb, mb, vb []*Tensor // GPU: AdamStepAll, AdamStep
	for i, n := range sizes {
		p, m, v := rng.Normal(n), rng.Normal(n), rng.Uniform(0, 1, n)
		g := rng.Normal(n)
		if i == 5 {
			p, m, v = rng.Normal(64, 64), rng.Normal(64, 64), rng.Uniform(0, 1, 64, 64)
			g = rng.Normal(64, 64).Transpose(0, 1)
		}
		ps, gs, ms, vs = append(ps, p), append(gs, g), append(ms, m), append(vs, v)
		pa, ga, ma, va = append(pa, p.To(CUDA)), append(ga, g.To(CUDA)), append(ma, m.To(CUDA)), append(va, v.To(CUDA))
		pb, gb, mb, vb = append(pb, p.To(CUDA)), append(gb, g.To(CUDA)), append(mb, m.To(CUDA)), append(vb, v.To(CUDA))
	}
	a := AdamParams{LR: 0.01, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, Step: 3, InfTo: 1e5, GradScale: 4}
	before := dev.Launches()
	AdamStepAll(pa, ga, ma, va, a)
	if ran := launchDelta(before, dev.Launches()); ran["adam_multi_f32"] != 2 || ran["adam_step_f32"] != 0 {
		t.Fatalf("60 tensors launched %v, want 2 adam_multi_f32", ran)
	}
	for i := range pb {
		AdamStep(pb[i], gb[i], mb[i], vb[i], a)
	}
	AdamStepAll(ps, gs, ms, vs, a) // host: one AdamStep each
	for i := range ps {
		for _, c := range []struct {
			what     string
			all, one *Tensor
			host     *Tensor
		}{{"p", pa[i], pb[i], ps[i]}, {"m", ma[i], mb[i], ms[i]}, {"v", va[i], vb[i], vs[i]}} {
			all, one := c.all.To(CPU).Data(), c.one.To(CPU).Data()
			for j := range all {
				if math.Float32bits(all[j]) != math.Float32bits(one[j]) {
					t.Fatalf("tensor %d (%d elements) %s[%d]: AdamStepAll %g, AdamStep %g", i, sizes[i], c.what, j, all[j], one[j])
				}
			}
			if d := maxRelDiff(c.all.To(CPU), c.host); d > 1e-5 {
				t.Fatalf("tensor %d %s: GPU against host, max relative difference %.2g", i, c.what, d)
			}
		}
	}
	expectPanic(t, "tensor.AdamStepAll: 2 parameters, 1 gradients", func() {
		AdamStepAll(pa[:2], ga[:1], ma[:2], va[:2], a)
	})
	expectPanic(t, "tensor.AdamStep: g has shape", func() {
		AdamStepAll(pa[1:3], []*Tensor{ga[1], ga[1]}, ma[1:3], va[1:3], a)
	})
}

// EMAUpdateAll: two launches for 60 tensors, equal bit for bit to the host's
// update, which rounds op by op as the kernel does.
func TestEMAUpdateAllMatchesHost(t *testing.T) {
	dev, restore := useEmulator()
	defer restore()
	rng := NewRNG(12)
	var avgs, srcs, gavgs, gsrcs []*Tensor
	for _, n := range multiSizes() {
		a, s := rng.Normal(n), rng.Normal(n)
		avgs, srcs = append(avgs, a), append(srcs, s)
		gavgs, gsrcs = append(gavgs, a.To(CUDA)), append(gsrcs, s.To(CUDA))
	}
	before := dev.Launches()
	EMAUpdateAll(gavgs, gsrcs, 0.999)
	if ran := launchDelta(before, dev.Launches()); ran["ema_multi_f32"] != 2 || len(ran) != 1 {
		t.Fatalf("60 tensors launched %v, want 2 ema_multi_f32", ran)
	}
	EMAUpdateAll(avgs, srcs, 0.999)
	for i := range avgs {
		got, want := gavgs[i].To(CPU).Data(), avgs[i].Data()
		for j := range want {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("tensor %d [%d]: GPU %g, host %g", i, j, got[j], want[j])
			}
		}
	}
}
