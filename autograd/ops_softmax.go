package autograd

import "github.com/lafite-go/lafite/tensor"

// Softmax is y_i = exp(x_i) / Σ_j exp(x_j) along dim. Its backward,
// dx = y·(g - Σ_dim g·y), reads the output y as a Var, so it is itself
// differentiable and every order works.
func Softmax(x *Var, dim int) *Var {
	d := tensor.NormDim(dim, x.Dim())
	var y *Var
	y = record("softmax", tensor.Softmax(x.Value, d), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(y, Sub(g, Sum(Mul(g, y), []int{d}, true)))}
	})
	return y
}

// LogSoftmax is y_i = x_i - log Σ_j exp(x_j) along dim. Backward:
// dx = g - exp(y)·Σ_dim g, written with the output Var y.
func LogSoftmax(x *Var, dim int) *Var {
	d := tensor.NormDim(dim, x.Dim())
	var y *Var
	y = record("log_softmax", tensor.LogSoftmax(x.Value, d), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Sub(g, Mul(Exp(y), Sum(g, []int{d}, true)))}
	})
	return y
}
