package autograd

import (
	"github.com/lafite-go/lafite/tensor"
)

// Elementwise arithmetic with NumPy broadcasting. Gradients of broadcast
// operands are summed back to their shapes with SumTo.

// Add is a + b; each gradient is g summed back to its operand's shape.
func Add(a, b *Var) *Var {
	return record("add", tensor.Add(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		return []*Var{SumTo(g, a.Shape()), SumTo(g, b.Shape())}
	})
}

// Sub is a − b; the gradients are g and −g, summed back to each shape.
func Sub(a, b *Var) *Var {
	return record("sub", tensor.Sub(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		var gb *Var
		if needs[1] {
			gb = SumTo(Neg(g), b.Shape())
		}
		return []*Var{SumTo(g, a.Shape()), gb}
	})
}

// Mul is a·b elementwise; the gradients are g·b and g·a.
func Mul(a, b *Var) *Var {
	return record("mul", tensor.Mul(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		var ga, gb *Var
		mark := tensor.BufferMark()
		if needs[0] {
			ga = sumToFresh(Mul(g, b), a.Shape(), mark)
		}
		if needs[1] {
			gb = sumToFresh(Mul(g, a), b.Shape(), mark)
		}
		return []*Var{ga, gb}
	})
}

// Div is a/b elementwise; the gradients are g/b and −g·a/b².
func Div(a, b *Var) *Var {
	return record("div", tensor.Div(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		var ga, gb *Var
		mark := tensor.BufferMark()
		if needs[0] {
			ga = sumToFresh(Div(g, b), a.Shape(), mark)
		}
		if needs[1] { // d(a/b)/db = -a/b²
			gb = SumTo(Neg(Div(Mul(g, a), Square(b))), b.Shape())
		}
		return []*Var{ga, gb}
	})
}

// Neg is −x; its gradient is −g.
func Neg(x *Var) *Var {
	return record("neg", tensor.Neg(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Neg(g)}
	})
}

// AddScalar adds a constant.
func AddScalar(x *Var, s float32) *Var {
	return record("add_scalar", tensor.AddScalar(x.Value, s), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{g}
	})
}

// MulScalar multiplies by a constant.
func MulScalar(x *Var, s float32) *Var {
	return record("mul_scalar", tensor.MulScalar(x.Value, s), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{MulScalar(g, s)}
	})
}

// RsubScalar returns s - x.
func RsubScalar(x *Var, s float32) *Var {
	return record("rsub_scalar", tensor.RsubScalar(x.Value, s), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Neg(g)}
	})
}

// PowScalar raises x to a constant power.
func PowScalar(x *Var, p float32) *Var {
	return record("pow_scalar", tensor.PowScalar(x.Value, p), []*Var{x}, func(g *Var, _ []bool) []*Var {
		if p == 1 {
			return []*Var{g}
		}
		return []*Var{Mul(g, MulScalar(PowScalar(x, p-1), p))}
	})
}

// Pow raises a to the power b elementwise (a > 0 where b needs a gradient).
func Pow(a, b *Var) *Var {
	y := tensor.Pow(a.Value, b.Value)
	var out *Var
	out = record("pow", y, []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		var ga, gb *Var
		if needs[0] {
			ga = SumTo(Mul(g, Mul(b, Pow(a, AddScalar(b, -1)))), a.Shape())
		}
		if needs[1] {
			gb = SumTo(Mul(g, Mul(out, Log(a))), b.Shape())
		}
		return []*Var{ga, gb}
	})
	return out
}

// Square is x²; its gradient is 2x·g.
func Square(x *Var) *Var {
	return record("square", tensor.Square(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, MulScalar(x, 2))}
	})
}

// Sqrt is √x; its gradient is g/(2√x), written with the saved output.
func Sqrt(x *Var) *Var {
	var y *Var
	y = record("sqrt", tensor.Sqrt(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Div(MulScalar(g, 0.5), y)}
	})
	return y
}

// Rsqrt is 1/√x; its gradient is −g·x^(−3/2)/2 = −g·y³/2.
func Rsqrt(x *Var) *Var {
	var y *Var
	y = record("rsqrt", tensor.Rsqrt(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		// d x^-1/2 = -1/2 x^-3/2 = -1/2 y³
		return []*Var{Mul(g, MulScalar(PowScalar(y, 3), -0.5))}
	})
	return y
}

// Exp is e^x; its gradient is g·e^x, written with the saved output.
func Exp(x *Var) *Var {
	var y *Var
	y = record("exp", tensor.Exp(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, y)}
	})
	return y
}

// Log is the natural logarithm; its gradient is g/x.
func Log(x *Var) *Var {
	return record("log", tensor.Log(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Div(g, x)}
	})
}

// Abs is |x|; its gradient is g·sign(x) (0 at 0, as torch).
func Abs(x *Var) *Var {
	return record("abs", tensor.Abs(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, Const(tensor.Sign(x.Value)))}
	})
}

// Sign has zero gradient everywhere it is defined.
func Sign(x *Var) *Var { return Const(tensor.Sign(x.Value)) }

// Recip returns 1/x.
func Recip(x *Var) *Var {
	var y *Var
	y = record("recip", tensor.Recip(x.Value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Neg(Mul(g, Square(y)))}
	})
	return y
}

// Maximum takes the larger element; ties split the gradient equally, as in
// torch.maximum.
func Maximum(a, b *Var) *Var {
	return record("maximum", tensor.Maximum(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		ma := tensor.Add(tensor.Greater(a.Value, b.Value), tensor.MulScalar(tensor.Equal(a.Value, b.Value), 0.5))
		return []*Var{SumTo(Mul(g, Const(ma)), a.Shape()), SumTo(Mul(g, Const(tensor.RsubScalar(ma, 1))), b.Shape())}
	})
}

// Minimum takes the smaller element; ties split the gradient equally.
func Minimum(a, b *Var) *Var {
	return record("minimum", tensor.Minimum(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		ma := tensor.Add(tensor.Less(a.Value, b.Value), tensor.MulScalar(tensor.Equal(a.Value, b.Value), 0.5))
		return []*Var{SumTo(Mul(g, Const(ma)), a.Shape()), SumTo(Mul(g, Const(tensor.RsubScalar(ma, 1))), b.Shape())}
	})
}

// Clamp limits x to [lo, hi]; the gradient passes where lo <= x <= hi
// (inclusive, as torch.clamp).
func Clamp(x *Var, lo, hi float32) *Var {
	return record("clamp", tensor.Clamp(x.Value, lo, hi), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Mul(g, Const(tensor.InRange(x.Value, lo, hi)))}
	})
}

// Where picks a where cond != 0, else b. cond is never differentiated.
func Where(cond *tensor.Tensor, a, b *Var) *Var {
	return record("where", tensor.Where(cond, a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		zero := Const(tensor.Zeros())
		var ga, gb *Var
		if needs[0] {
			ga = SumTo(Where(cond, g, zero), a.Shape())
		}
		if needs[1] {
			gb = SumTo(Where(cond, zero, g), b.Shape())
		}
		return []*Var{ga, gb}
	})
}

// NanToNum replaces NaN and infinities; the gradient passes where x was finite.
func NanToNum(x *Var, nan, posinf, neginf float32) *Var {
	return record("nan_to_num", tensor.NanToNum(x.Value, nan, posinf, neginf), []*Var{x}, func(g *Var, _ []bool) []*Var {
		finite := tensor.MapFunc(x.Value, func(v float32) float32 {
			if v-v == 0 {
				return 1
			}
			return 0
		})
		return []*Var{Mul(g, Const(finite))}
	})
}
