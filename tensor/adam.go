package tensor

import (
	"fmt"
	"math"
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
	if dispatchCUDA("AdamStep", p, g, m, v) {
		cudaAdamStep(p, g, m, v, a)
		return
	}
	bc1 := 1 - math.Pow(float64(a.Beta1), float64(a.Step))
	bc2 := 1 - math.Pow(float64(a.Beta2), float64(a.Step))
	stepSize := float64(a.LR) / bc1
	sq2 := math.Sqrt(bc2)
	if s := a.gradScale(); s != 1 {
		g = MulScalar(g, s)
	}
	if a.InfTo > 0 {
		g = NanToNum(g, 0, a.InfTo, -a.InfTo)
	}
	gd := g.Contiguous().Data()
	w, md, vd := p.Data(), m.Data(), v.Data()
	b1, b2 := a.Beta1, a.Beta2
	for j := range w {
		md[j] = b1*md[j] + (1-b1)*gd[j]
		vd[j] = b2*vd[j] + (1-b2)*gd[j]*gd[j]
		den := math.Sqrt(float64(vd[j]))/sq2 + float64(a.Eps)
		w[j] -= float32(stepSize * float64(md[j]) / den)
	}
}

// EMAUpdate moves avg towards src in place: avg = src + beta·(avg − src),
// each operation rounded to float32 as written (no fused multiply-add). avg
// must be contiguous; src has its shape, on the same device.
func EMAUpdate(avg, src *Tensor, beta float32) {
	if !SameShape(avg.shape, src.shape) {
		panic(fmt.Sprintf("tensor.EMAUpdate: src has shape %v, avg has %v", src.shape, avg.shape))
	}
	if !avg.IsContiguous() {
		panic("tensor.EMAUpdate: avg is updated in place and must be contiguous")
	}
	if dispatchCUDA("EMAUpdate", avg, src) {
		cudaEMAUpdate(avg, src, beta)
		return
	}
	ad, sd := avg.Data(), src.Contiguous().Data()
	for j := range ad {
		ad[j] = sd[j] + float32(beta*float32(ad[j]-sd[j])) // conversions: no fused multiply-add on any GOARCH
	}
}
