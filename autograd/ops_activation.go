package autograd

import (
	"math"

	"github.com/lafite-go/lafite/tensor"
)

// Activations. Piecewise-linear ones multiply by a constant mask (their second
// derivative is zero); smooth ones express the derivative with differentiable
// ops so every order exists.

// Relu is max(x, 0); its gradient is g·[x > 0].
func Relu(x *Var) *Var {
	return record("relu", tensor.Relu(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, Const(tensor.Step(x.Value)))}
	})
}

// LeakyRelu is x for x > 0 and alpha·x otherwise; its gradient is g·(1 or alpha).
func LeakyRelu(x *Var, alpha float32) *Var {
	return record("leaky_relu", tensor.LeakyRelu(x.Value, alpha), []*Var{x}, func(g *Var, _ []bool) []*Var {
		slope := tensor.Where(tensor.Step(x.Value), tensor.Scalar(1), tensor.Scalar(alpha))
		return []*Var{Mul(g, Const(slope))}
	})
}

// Sigmoid is σ(x) = 1/(1 + e^−x); its gradient is g·σ(1 − σ), written with the saved output.
func Sigmoid(x *Var) *Var {
	var y *Var
	y = record("sigmoid", tensor.Sigmoid(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, Mul(y, RsubScalar(y, 1)))}
	})
	return y
}

// Tanh is tanh(x); its gradient is g·(1 − tanh²(x)), written with the saved output.
func Tanh(x *Var) *Var {
	var y *Var
	y = record("tanh", tensor.Tanh(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, RsubScalar(Square(y), 1))}
	})
	return y
}

// Softplus is log(1+e^x) (linear above 20, as torch).
func Softplus(x *Var) *Var {
	return record("softplus", tensor.Softplus(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, Sigmoid(x))}
	})
}

// Erf is the error function.
func Erf(x *Var) *Var {
	return record("erf", tensor.Erf(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		// d erf(x)/dx = 2/√π e^{-x²}
		return []*Var{Mul(g, MulScalar(Exp(Neg(Square(x))), 2/float32(math.Sqrt(math.Pi))))}
	})
}

// Gelu is x·Φ(x) with the exact (erf) Φ.
func Gelu(x *Var) *Var {
	return record("gelu", tensor.Gelu(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		// Φ(x) + x φ(x)
		cdf := MulScalar(AddScalar(Erf(MulScalar(x, 1/float32(math.Sqrt2))), 1), 0.5)
		pdf := MulScalar(Exp(MulScalar(Square(x), -0.5)), float32(1/math.Sqrt(2*math.Pi)))
		return []*Var{Mul(g, Add(cdf, Mul(x, pdf)))}
	})
}

// GeluTanh is the tanh approximation 0.5x(1+tanh(√(2/π)(x+0.044715x³))).
func GeluTanh(x *Var) *Var {
	return record("gelu_tanh", tensor.GeluTanh(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		const c = 0.7978845608028654
		u := MulScalar(Add(x, MulScalar(PowScalar(x, 3), 0.044715)), c)
		t := Tanh(u)
		du := MulScalar(AddScalar(MulScalar(Square(x), 3*0.044715), 1), c)
		d := Add(MulScalar(AddScalar(t, 1), 0.5), Mul(MulScalar(x, 0.5), Mul(RsubScalar(Square(t), 1), du)))
		return []*Var{Mul(g, d)}
	})
}

// QuickGelu is CLIP's x·sigmoid(1.702x).
func QuickGelu(x *Var) *Var {
	return record("quick_gelu", tensor.QuickGelu(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		s := Sigmoid(MulScalar(x, 1.702))
		d := Add(s, Mul(MulScalar(x, 1.702), Mul(s, RsubScalar(s, 1))))
		return []*Var{Mul(g, d)}
	})
}
