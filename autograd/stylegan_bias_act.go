package autograd

import "github.com/lafite-go/lafite/tensor"

// BiasAct is StyleGAN2's fused y = clamp(act(x + b)·gain, −c, c) with b
// broadcast along p.Dim (b may be nil). Its gradient is the recorded op
// bias_act_grad (as the reference's BiasActCudaGrad), so every order works.
// Kernels: cpu.BiasAct and cpu.BiasActGrad (kernels/cpu/bias_act_ref.go).
//
// Gradient convention: the golden files come from the reference's impl='ref'
// (plain torch autograd), so the relu/lrelu slope branches on x + b > 0 and
// the clamp passes the gradient where −c <= act(x + b)·gain <= c, inclusive.
// The CUDA kernel reads the same masks off the saved output y with a strict
// inequality; the two differ only where act(x + b)·gain == ±c exactly.
func BiasAct(x, b *Var, p tensor.BiasActParams) *Var {
	var bv *tensor.Tensor
	if b != nil {
		bv = b.Value
	}
	y := tensor.BiasAct(x.Value, bv, p)
	return record("bias_act", y, []*Var{x, b}, func(g *Var, needs []bool) []*Var {
		dx := biasActGrad(g, x, b, p)
		var db *Var
		if needs[1] {
			db = sumOverAllBut(dx, p.Dim)
		}
		return []*Var{dx, db}
	})
}

// biasActGrad is dx = dy·act'(s)·gain·mask(s), s = x + b, as a recorded op.
// It is linear in dy, so its gradient w.r.t. dy is the same op; w.r.t. x (and
// b) it is dy·g·gain·mask·act”(s), zero for the piecewise-linear
// activations and written with differentiable ops for the smooth ones.
func biasActGrad(dy, x, b *Var, p tensor.BiasActParams) *Var {
	var bv *tensor.Tensor
	if b != nil {
		bv = b.Value
	}
	dx := tensor.BiasActGrad(dy.Value, x.Value, bv, p)
	return record("bias_act_grad", dx, []*Var{dy, x, b}, func(g *Var, needs []bool) []*Var {
		grads := make([]*Var, 3)
		if needs[0] {
			grads[0] = biasActGrad(g, x, b, p)
		}
		if needs[1] || needs[2] {
			if d2 := biasActSecondDeriv(x, b, p); d2 != nil {
				ds := Mul(Mul(g, dy), d2)
				grads[1] = ds
				if needs[2] {
					grads[2] = sumOverAllBut(ds, p.Dim)
				}
			}
		}
		return grads
	})
}

// biasActSecondDeriv returns act”(s)·gain·mask(s) for s = x + b, or nil when
// it is zero everywhere (linear, relu, lrelu). Built from differentiable ops
// so that third and higher orders work too.
func biasActSecondDeriv(x, b *Var, p tensor.BiasActParams) *Var {
	switch p.Act {
	case "linear", "relu", "lrelu":
		return nil
	}
	s := x
	if b != nil {
		s = Add(x, Reshape(b, biasShape(x.Shape(), p.Dim)...))
	}
	zero := Const(tensor.Scalar(0))
	var d2 *Var
	switch p.Act {
	case "tanh": // (1 − t²)' = −2t(1 − t²)
		t := Tanh(s)
		d2 = MulScalar(Mul(t, RsubScalar(Square(t), 1)), -2)
	case "sigmoid": // σ(1 − σ)(1 − 2σ)
		sg := Sigmoid(s)
		d2 = Mul(Mul(sg, RsubScalar(sg, 1)), RsubScalar(MulScalar(sg, 2), 1))
	case "softplus": // sigmoid'(s), zero where torch's softplus is linear (s > 20)
		sg := Sigmoid(s)
		d2 = Mul(Mul(sg, RsubScalar(sg, 1)), Const(tensor.LessEqual(s.Value, tensor.Scalar(20))))
	case "swish": // (σ + sσ(1 − σ))' = σ(1 − σ)(2 + s(1 − 2σ))
		sg := Sigmoid(s)
		d2 = Mul(Mul(sg, RsubScalar(sg, 1)), AddScalar(Mul(s, RsubScalar(MulScalar(sg, 2), 1)), 2))
	case "elu", "selu": // c·e^s on s <= 0, 0 above (exp of min(s, 0) cannot overflow)
		neg := tensor.LessEqual(s.Value, tensor.Scalar(0))
		d2 = Where(neg, Exp(Where(neg, s, zero)), zero)
		if p.Act == "selu" {
			const seluScaleAlpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
			d2 = MulScalar(d2, seluScaleAlpha)
		}
	default:
		tensor.DefaultBiasAct(p.Act) // panics naming the unknown activation
	}
	d2 = MulScalar(d2, p.Gain)
	if p.Clamp >= 0 {
		// The clamp's pass-through mask, computed as the kernels do.
		unclamped := p
		unclamped.Clamp = -1
		var bv *tensor.Tensor
		if b != nil {
			bv = b.Value
		}
		v := tensor.BiasAct(x.Value, bv, unclamped)
		d2 = Mul(d2, Const(tensor.InRange(v, -p.Clamp, p.Clamp)))
	}
	return d2
}

// biasShape is [1, …, C, …, 1]: b reshaped to broadcast along dim of x.
func biasShape(xShape []int, dim int) []int {
	d := tensor.NormDim(dim, len(xShape))
	s := make([]int, len(xShape))
	for i := range s {
		s[i] = 1
	}
	s[d] = xShape[d]
	return s
}

// sumOverAllBut sums v over every axis except dim, giving shape [size(dim)].
func sumOverAllBut(v *Var, dim int) *Var {
	d := tensor.NormDim(dim, v.Dim())
	var dims []int
	for i := 0; i < v.Dim(); i++ {
		if i != d {
			dims = append(dims, i)
		}
	}
	if len(dims) == 0 { // Sum over no dims would mean over all of them
		return v
	}
	return Sum(v, dims, false)
}
