package tensor

import (
	"math"

	"github.com/lafite-go/lafite/kernels/cpu"
)

func unary(op cpu.UnaryOp, p float32, x *Tensor) *Tensor {
	if dispatchCUDA("unary", x) {
		return cudaUnary(op, p, x)
	}
	out := Empty(x.shape...)
	o := out.storage.data
	xs := x.storage.data
	iterate2(x.shape, out.strides, 0, x.strides, x.offset, func(n, d, ds, a, as int) {
		cpu.Unary(op, p, n, o, d, ds, xs, a, as)
	})
	return out
}

func binary(name string, op cpu.BinaryOp, a, b *Tensor) *Tensor {
	if dispatchCUDA(name, a, b) {
		return cudaBinary(name, op, a, b)
	}
	shape := mustBroadcast(name, a.shape, b.shape)
	ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	out := Empty(shape...)
	o, ad, bd := out.storage.data, a.storage.data, b.storage.data
	iterate3Rows(shape, out.strides, 0, ab.strides, ab.offset, bb.strides, bb.offset, func(rows, n, d, drs, ds, ao, ars, as, bo, brs, bs int) {
		cpu.BinaryRows(op, rows, n, o, d, drs, ds, ad, ao, ars, as, bd, bo, brs, bs)
	})
	return out
}

// MapFunc applies f to every element; for rare element functions that have no
// kernel of their own.
func MapFunc(x *Tensor, f func(float32) float32) *Tensor {
	if dispatchCUDA("MapFunc", x) {
		return cudaMapFunc(x, f)
	}
	out := Empty(x.shape...)
	o, xs := out.storage.data, x.storage.data
	iterate2(x.shape, out.strides, 0, x.strides, x.offset, func(n, d, ds, a, as int) {
		for i := 0; i < n; i++ {
			o[d+i*ds] = f(xs[a+i*as])
		}
	})
	return out
}

// Binary arithmetic with NumPy broadcasting.
func Add(a, b *Tensor) *Tensor          { return binary("Add", cpu.OpAdd, a, b) }
func Sub(a, b *Tensor) *Tensor          { return binary("Sub", cpu.OpSub, a, b) }
func Mul(a, b *Tensor) *Tensor          { return binary("Mul", cpu.OpMul, a, b) }
func Div(a, b *Tensor) *Tensor          { return binary("Div", cpu.OpDiv, a, b) }
func Maximum(a, b *Tensor) *Tensor      { return binary("Maximum", cpu.OpMaximum, a, b) }
func Minimum(a, b *Tensor) *Tensor      { return binary("Minimum", cpu.OpMinimum, a, b) }
func Pow(a, b *Tensor) *Tensor          { return binary("Pow", cpu.OpPow, a, b) }
func Greater(a, b *Tensor) *Tensor      { return binary("Greater", cpu.OpGreater, a, b) }
func GreaterEqual(a, b *Tensor) *Tensor { return binary("GreaterEqual", cpu.OpGreaterEqual, a, b) }
func Less(a, b *Tensor) *Tensor         { return binary("Less", cpu.OpLess, a, b) }
func LessEqual(a, b *Tensor) *Tensor    { return binary("LessEqual", cpu.OpLessEqual, a, b) }
func Equal(a, b *Tensor) *Tensor        { return binary("Equal", cpu.OpEqual, a, b) }
func NotEqual(a, b *Tensor) *Tensor     { return binary("NotEqual", cpu.OpNotEqual, a, b) }

// Unary functions.
func Neg(x *Tensor) *Tensor       { return unary(cpu.OpNeg, 0, x) }
func Exp(x *Tensor) *Tensor       { return unary(cpu.OpExp, 0, x) }
func Log(x *Tensor) *Tensor       { return unary(cpu.OpLog, 0, x) }
func Sqrt(x *Tensor) *Tensor      { return unary(cpu.OpSqrt, 0, x) }
func Rsqrt(x *Tensor) *Tensor     { return unary(cpu.OpRsqrt, 0, x) }
func Abs(x *Tensor) *Tensor       { return unary(cpu.OpAbs, 0, x) }
func Sign(x *Tensor) *Tensor      { return unary(cpu.OpSign, 0, x) }
func Square(x *Tensor) *Tensor    { return unary(cpu.OpSquare, 0, x) }
func Recip(x *Tensor) *Tensor     { return unary(cpu.OpRecip, 0, x) }
func Relu(x *Tensor) *Tensor      { return unary(cpu.OpRelu, 0, x) }
func Sigmoid(x *Tensor) *Tensor   { return unary(cpu.OpSigmoid, 0, x) }
func Tanh(x *Tensor) *Tensor      { return unary(cpu.OpTanh, 0, x) }
func Softplus(x *Tensor) *Tensor  { return unary(cpu.OpSoftplus, 0, x) }
func Gelu(x *Tensor) *Tensor      { return unary(cpu.OpGeluErf, 0, x) }
func GeluTanh(x *Tensor) *Tensor  { return unary(cpu.OpGeluTanh, 0, x) }
func QuickGelu(x *Tensor) *Tensor { return unary(cpu.OpQuickGelu, 0, x) }
func Erf(x *Tensor) *Tensor       { return unary(cpu.OpErf, 0, x) }
func Cos(x *Tensor) *Tensor       { return unary(cpu.OpCos, 0, x) }
func Sin(x *Tensor) *Tensor       { return unary(cpu.OpSin, 0, x) }
func Floor(x *Tensor) *Tensor     { return unary(cpu.OpFloor, 0, x) }

// Step is 1 where x > 0 and 0 elsewhere (the derivative mask of relu).
func Step(x *Tensor) *Tensor { return unary(cpu.OpStep, 0, x) }

// LeakyRelu is x for x > 0 and alpha*x otherwise.
func LeakyRelu(x *Tensor, alpha float32) *Tensor { return unary(cpu.OpLeakyRelu, alpha, x) }

// PowScalar raises every element to p.
func PowScalar(x *Tensor, p float32) *Tensor { return unary(cpu.OpPowScalar, p, x) }

// AddScalar adds s to every element.
func AddScalar(x *Tensor, s float32) *Tensor { return unary(cpu.OpAddScalar, s, x) }

// MulScalar multiplies every element by s.
func MulScalar(x *Tensor, s float32) *Tensor { return unary(cpu.OpMulScalar, s, x) }

// RsubScalar returns s - x.
func RsubScalar(x *Tensor, s float32) *Tensor { return unary(cpu.OpRsubScalar, s, x) }

// Clamp limits every element to [lo, hi]; NaN stays NaN.
func Clamp(x *Tensor, lo, hi float32) *Tensor {
	if dispatchCUDA("Clamp", x) {
		return cudaClamp(x, lo, hi)
	}
	return MapFunc(x, func(v float32) float32 {
		if v < lo {
			return lo
		}
		if v > hi {
			return hi
		}
		return v
	})
}

// InRange is 1 where lo <= x <= hi and 0 elsewhere (the derivative mask of Clamp).
func InRange(x *Tensor, lo, hi float32) *Tensor {
	if dispatchCUDA("InRange", x) {
		return cudaInRange(x, lo, hi)
	}
	return MapFunc(x, func(v float32) float32 {
		if v >= lo && v <= hi {
			return 1
		}
		return 0
	})
}

// NanToNum replaces NaN by nan, +Inf by posinf and -Inf by neginf.
func NanToNum(x *Tensor, nan, posinf, neginf float32) *Tensor {
	if dispatchCUDA("NanToNum", x) {
		return cudaNanToNum(x, nan, posinf, neginf)
	}
	return MapFunc(x, func(v float32) float32 {
		switch {
		case v != v:
			return nan
		case math.IsInf(float64(v), 1):
			return posinf
		case math.IsInf(float64(v), -1):
			return neginf
		}
		return v
	})
}

// Where selects a where cond != 0 and b elsewhere, broadcasting all three.
func Where(cond, a, b *Tensor) *Tensor {
	if dispatchCUDA("Where", cond, a, b) {
		return cudaWhere(cond, a, b)
	}
	shape := mustBroadcast("Where", cond.shape, a.shape, b.shape)
	c := cond.BroadcastTo(shape...).Contiguous()
	ab, bb := a.BroadcastTo(shape...), b.BroadcastTo(shape...)
	out := Empty(shape...)
	o, cd, ad, bd := out.storage.data, c.storage.data, a.storage.data, b.storage.data
	co := c.offset
	iterate3(shape, out.strides, 0, ab.strides, ab.offset, bb.strides, bb.offset, func(n, d, ds, ao, as, bo, bs int) {
		cpu.WhereRef(n, o, d, ds, cd, co+d, 1, ad, ao, as, bd, bo, bs)
	})
	return out
}
