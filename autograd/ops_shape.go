package autograd

import (
	"github.com/lafite-go/lafite/tensor"
)

// View and shape operations: their gradients are the inverse views.

// Reshape views x with another shape (one size may be −1); its gradient is g reshaped back.
func Reshape(x *Var, shape ...int) *Var {
	out := x.Value.Reshape(shape...)
	if out.SameShapeAs(x.Value) {
		return x
	}
	xs := x.Shape()
	return record("reshape", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Reshape(g, xs...)}
	})
}

// Flatten merges dims start..end (inclusive) of x into one.
func Flatten(x *Var, start, end int) *Var {
	return Reshape(x, x.Value.Flatten(start, end).Shape()...)
}

// Permute reorders x's dims: out dim i is x's dim perm[i]; its gradient permutes back.
func Permute(x *Var, perm ...int) *Var {
	inv := tensor.InversePermutation(perm)
	return record("permute", x.Value.Permute(perm...), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Permute(g, inv...)}
	})
}

// Transpose swaps dims a and b; its gradient swaps them back.
func Transpose(x *Var, a, b int) *Var {
	return record("transpose", x.Value.Transpose(a, b), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Transpose(g, a, b)}
	})
}

// Slice keeps start, start+step, ... < end along dim.
func Slice(x *Var, dim, start, end, step int) *Var {
	xs := x.Shape()
	d := tensor.NormDim(dim, len(xs))
	n := xs[d]
	s := start
	if s < 0 {
		s += n
	}
	s = max(0, min(s, n))
	out := x.Value.Slice(dim, start, end, step)
	return record("slice", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{scatterSlice(g, xs, d, s, step)}
	})
}

// scatterSlice embeds g into zeros of shape; its gradient is Slice again.
func scatterSlice(g *Var, shape []int, dim, start, step int) *Var {
	n := g.Shape()[dim]
	return record("scatter_slice", tensor.ScatterSlice(g.Value, shape, dim, start, step), []*Var{g}, func(gg *Var, _ []bool) []*Var {
		return []*Var{Slice(gg, dim, start, start+(n-1)*step+1, step)}
	})
}

// Narrow is Slice with step 1 and a length.
func Narrow(x *Var, dim, start, length int) *Var { return Slice(x, dim, start, start+length, 1) }

// Select indexes dim at i and drops it.
func Select(x *Var, dim, i int) *Var {
	d := tensor.NormDim(dim, x.Dim())
	if i < 0 {
		i += x.Shape()[d]
	}
	return Squeeze(Slice(x, d, i, i+1, 1), d)
}

// Unsqueeze inserts a dim of size 1 at dim; its gradient reshapes back.
func Unsqueeze(x *Var, dim int) *Var {
	out := x.Value.Unsqueeze(dim)
	xs := x.Shape()
	return record("unsqueeze", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Reshape(g, xs...)}
	})
}

// Squeeze removes dim, which must have size 1; its gradient reshapes back.
func Squeeze(x *Var, dim int) *Var {
	out := x.Value.Squeeze(dim)
	xs := x.Shape()
	return record("squeeze", out, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Reshape(g, xs...)}
	})
}

// Expand is BroadcastTo where -1 keeps a size.
func Expand(x *Var, shape ...int) *Var { return BroadcastTo(x, x.Value.Expand(shape...).Shape()...) }

// Contiguous returns x with a row-major copy of its value when needed.
func Contiguous(x *Var) *Var {
	if x.Value.IsContiguous() {
		return x
	}
	return record("contiguous", x.Value.Contiguous(), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{g}
	})
}
