package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// AdamParams are the hyper-parameters of one AdamStep.
type AdamParams struct {
	LR, Beta1, Beta2, Eps float32
	Step                  int // t, from 1: the bias corrections are 1 − β^t
	// InfTo > 0 first replaces NaN gradients by 0 and ±Inf by ±InfTo (nan_to_num,
	// as Lafite's training loop does with 1e5); 0 leaves gradients alone.
	InfTo float32
	// GradScale, when not 0 or 1, multiplies the gradient first (a lazy
	// regulariser's interval), with the rounding of MulScalar then the step.
	GradScale float32
}

// gradScale is GradScale with its zero value meaning 1.
func (a AdamParams) gradScale() float32 {
	if a.GradScale == 0 {
		return 1
	}
	return a.GradScale
}

// AdamStep applies one step of torch.optim.Adam (no weight decay) in place:
// m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², then
// p −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε). p, m and v must be contiguous
// tensors of one shape on one device; g has that shape.
func AdamStep(p, g, m, v *Tensor, a AdamParams) {
	checkAdamArgs(p, g, m, v, a)
	if dispatchCUDA("AdamStep", p, g, m, v) {
		cudaAdamStep(p, g, m, v, a)
		return
	}
	adamStepHost(p, g, m, v, a)
}

// AdamStepAll is AdamStep for every (ps[i], gs[i], ms[i], vs[i]) with the
// same hyperparameters: a model's parameters in one call. On the GPU up to
// cuda.MultiMax tensors go to one launch, not one launch each; the results
// are AdamStep's, bit for bit.
func AdamStepAll(ps, gs, ms, vs []*Tensor, a AdamParams) {
	if len(gs) != len(ps) || len(ms) != len(ps) || len(vs) != len(ps) {
		panic(fmt.Sprintf("tensor.AdamStepAll: %d parameters, %d gradients, %d and %d moments", len(ps), len(gs), len(ms), len(vs)))
	}
	var gpu []int
	for i := range ps {
		checkAdamArgs(ps[i], gs[i], ms[i], vs[i], a)
		if dispatchCUDA("AdamStep", ps[i], gs[i], ms[i], vs[i]) {
			gpu = append(gpu, i)
		} else {
			adamStepHost(ps[i], gs[i], ms[i], vs[i], a)
		}
	}
	if len(gpu) > 0 {
		cudaAdamStepAll(ps, gs, ms, vs, gpu, a)
	}
}

// checkAdamArgs panics, naming the problem, unless AdamStep can run on them.
func checkAdamArgs(p, g, m, v *Tensor, a AdamParams) {
	for _, c := range []struct {
		name string
		t    *Tensor
	}{{"g", g}, {"m", m}, {"v", v}} {
		if !SameShape(c.t.shape, p.shape) {
			panic(fmt.Sprintf("tensor.AdamStep: %s has shape %v, p has %v", c.name, c.t.shape, p.shape))
		}
	}
	if !p.IsContiguous() || !m.IsContiguous() || !v.IsContiguous() {
		panic("tensor.AdamStep: p, m and v are updated in place and must be contiguous")
	}
	if a.Step < 1 {
		panic(fmt.Sprintf("tensor.AdamStep: Step %d must be >= 1", a.Step))
	}
}

// adamStepHost is AdamStep on the CPU.
func adamStepHost(p, g, m, v *Tensor, a AdamParams) {
	p.storage.changed()
	c := cpu.NewAdamCoefs(a.LR, a.Beta1, a.Beta2, a.Eps, a.Step, a.gradScale(), a.InfTo)
	// The gradient is scaled and cleaned as it is read, rounded as
	// MulScalar then NanToNum would: no copy of it per step.
	gc := g.Contiguous()
	if gc != g {
		defer gc.Release()
	}
	w, gd, md, vd := p.Data(), gc.Data(), m.Data(), v.Data()
	// Elements are independent: split between the workers, the same bits.
	cpu.ParallelRange(len(w), adamCostPerElement, func(lo, hi int) {
		cpu.AdamUpdate(w[lo:hi], gd[lo:hi], md[lo:hi], vd[lo:hi], c)
	})
}

// adamCostPerElement is an Adam update's work per element in
// cpu.ParallelFor's units and emaCostPerElement an EMA update's, with the
// vector kernels (Adam about 1.3 ns an element on the machine of
// bench/NOTES.md, the EMA's three operations a fraction of that): smaller
// tensors stay on one thread.
const (
	adamCostPerElement = 4
	emaCostPerElement  = 1
)

// EMAUpdate moves avg towards src in place: avg = src + beta·(avg − src),
// each operation rounded to float32 as written (no fused multiply-add). avg
// must be contiguous; src has its shape, on the same device.
func EMAUpdate(avg, src *Tensor, beta float32) {
	checkEMAArgs(avg, src)
	if dispatchCUDA("EMAUpdate", avg, src) {
		cudaEMAUpdate(avg, src, beta)
		return
	}
	emaUpdateHost(avg, src, beta)
}

// EMAUpdateAll is EMAUpdate for every (avgs[i], srcs[i]): a model's
// parameters in one call, up to cuda.MultiMax tensors a launch on the GPU,
// with EMAUpdate's results bit for bit.
func EMAUpdateAll(avgs, srcs []*Tensor, beta float32) {
	if len(srcs) != len(avgs) {
		panic(fmt.Sprintf("tensor.EMAUpdateAll: %d averages, %d sources", len(avgs), len(srcs)))
	}
	var gpu []int
	for i := range avgs {
		checkEMAArgs(avgs[i], srcs[i])
		if dispatchCUDA("EMAUpdate", avgs[i], srcs[i]) {
			gpu = append(gpu, i)
		} else {
			emaUpdateHost(avgs[i], srcs[i], beta)
		}
	}
	if len(gpu) > 0 {
		cudaEMAUpdateAll(avgs, srcs, gpu, beta)
	}
}

func checkEMAArgs(avg, src *Tensor) {
	if !SameShape(avg.shape, src.shape) {
		panic(fmt.Sprintf("tensor.EMAUpdate: src has shape %v, avg has %v", src.shape, avg.shape))
	}
	if !avg.IsContiguous() {
		panic("tensor.EMAUpdate: avg is updated in place and must be contiguous")
	}
}

// emaUpdateHost is EMAUpdate on the CPU.
func emaUpdateHost(avg, src *Tensor, beta float32) {
	avg.storage.changed()
	ad, sd := avg.Data(), src.Contiguous().Data()
	cpu.ParallelRange(len(ad), emaCostPerElement, func(lo, hi int) {
		cpu.EMAUpdate(ad[lo:hi], sd[lo:hi], beta)
	})
}
