package autograd

import (
	"fmt"
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// CheckOptions tunes the finite-difference checker.
type CheckOptions struct {
	Eps  float64 // central-difference step (default 5e-3: the forward runs in float32)
	Atol float64 // absolute tolerance (default 2e-3)
	Rtol float64 // relative tolerance (default 2e-2)
	// MaxProbes bounds the elements perturbed per input (default 48, chosen
	// deterministically spread over the tensor); 0 keeps the default.
	MaxProbes int
	Seed      uint64
}

func (o *CheckOptions) defaults() {
	if o.Eps == 0 {
		o.Eps = 5e-3
	}
	if o.Atol == 0 {
		o.Atol = 2e-3
	}
	if o.Rtol == 0 {
		o.Rtol = 2e-2
	}
	if o.MaxProbes == 0 {
		o.MaxProbes = 48
	}
	if o.Seed == 0 {
		o.Seed = 12345
	}
}

// dot64 is Σ a·b accumulated in float64.
func dot64(a, b *tensor.Tensor) float64 {
	as, bs := a.ToSlice(), b.ToSlice()
	var s float64
	for i := range as {
		s += float64(as[i]) * float64(bs[i])
	}
	return s
}

func probeIndices(n, maxProbes int) []int {
	if n <= maxProbes {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, maxProbes)
	for i := range idx {
		idx[i] = int(int64(i) * int64(n-1) / int64(maxProbes-1))
	}
	return idx
}

// numericGrad differentiates phi (a float64 function of the inputs) by
// central differences at the probed elements of input k.
func numericGrad(phi func([]*tensor.Tensor) float64, xs []*tensor.Tensor, k int, idx []int, eps float64) []float64 {
	out := make([]float64, len(idx))
	base := xs[k].ToSlice()
	shape := xs[k].Shape()
	for j, i := range idx {
		orig := base[i]
		eval := func(v float64) float64 {
			base[i] = float32(float64(orig) + v)
			// The step actually taken after float32 rounding.
			cp := append([]*tensor.Tensor(nil), xs...)
			cp[k] = tensor.New(base, shape...)
			return phi(cp)
		}
		hp := float64(float32(float64(orig)+eps)) - float64(orig)
		hm := float64(orig) - float64(float32(float64(orig)-eps))
		fp, fm := eval(eps), eval(-eps)
		base[i] = orig
		out[j] = (fp - fm) / (hp + hm)
	}
	return out
}

func compare(what string, k int, idx []int, analytic *tensor.Tensor, numeric []float64, o CheckOptions) error {
	a := analytic.ToSlice()
	for j, i := range idx {
		if d := math.Abs(float64(a[i]) - numeric[j]); d > o.Atol+o.Rtol*math.Abs(numeric[j]) || math.IsNaN(float64(a[i])) {
			return fmt.Errorf("%s of input %d at element %d: analytic %.6g, numeric %.6g (diff %.3g)", what, k, i, a[i], numeric[j], d)
		}
	}
	return nil
}

// CheckGrad compares the gradient of L = Σ f(x)·c (c a fixed random cotangent)
// with central differences, for every input.
func CheckGrad(f func(xs []*Var) *Var, inputs []*tensor.Tensor, o CheckOptions) error {
	o.defaults()
	params := make([]*Var, len(inputs))
	for i, t := range inputs {
		params[i] = Param(t)
	}
	y := f(params)
	cot := tensor.NewRNG(o.Seed).Normal(y.Shape()...)
	grads := Grad([]*Var{y}, params, []*Var{Const(cot)}, false)
	phi := func(xs []*tensor.Tensor) float64 {
		var v float64
		NoGrad(func() {
			cs := make([]*Var, len(xs))
			for i, t := range xs {
				cs[i] = Const(t)
			}
			v = dot64(f(cs).Value, cot)
		})
		return v
	}
	for k := range inputs {
		idx := probeIndices(inputs[k].Numel(), o.MaxProbes)
		num := numericGrad(phi, inputs, k, idx, o.Eps)
		if err := compare("gradient", k, idx, grads[k].Value, num, o); err != nil {
			return err
		}
	}
	return nil
}

// CheckGradGrad checks second order: with g = dL/dx (L as in CheckGrad) and a
// random v, it compares d(Σ g·v)/dx, computed by double backward, with central
// differences of the first-order gradient.
func CheckGradGrad(f func(xs []*Var) *Var, inputs []*tensor.Tensor, o CheckOptions) error {
	o.defaults()
	rng := tensor.NewRNG(o.Seed)
	params := make([]*Var, len(inputs))
	for i, t := range inputs {
		params[i] = Param(t)
	}
	y := f(params)
	cot := rng.Normal(y.Shape()...)
	vs := make([]*tensor.Tensor, len(inputs))
	for i, t := range inputs {
		vs[i] = rng.Normal(t.Shape()...)
	}
	g := Grad([]*Var{y}, params, []*Var{Const(cot)}, true)
	var psi *Var
	for i := range g {
		term := SumAll(Mul(g[i], Const(vs[i])))
		if psi == nil {
			psi = term
		} else {
			psi = Add(psi, term)
		}
	}
	gg := Grad([]*Var{psi}, params, nil, false)
	phi := func(xs []*tensor.Tensor) float64 {
		ps := make([]*Var, len(xs))
		for i, t := range xs {
			ps[i] = Param(t)
		}
		gs := Grad([]*Var{f(ps)}, ps, []*Var{Const(cot)}, false)
		var s float64
		for i := range gs {
			s += dot64(gs[i].Value, vs[i])
		}
		return s
	}
	for k := range inputs {
		idx := probeIndices(inputs[k].Numel(), o.MaxProbes)
		num := numericGrad(phi, inputs, k, idx, o.Eps)
		if err := compare("second-order gradient", k, idx, gg[k].Value, num, o); err != nil {
			return err
		}
	}
	return nil
}
