package autograd

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// Concat joins vs along dim. The gradient of input k is the slice of g that
// it filled (a Narrow, whose own gradient embeds back into zeros).
func Concat(vs []*Var, dim int) *Var {
	ts := make([]*tensor.Tensor, len(vs))
	for k, v := range vs {
		ts[k] = v.Value
	}
	out := tensor.Concat(ts, dim)
	d := tensor.NormDim(dim, out.Dim())
	return record("concat", out, vs, func(g *Var, needs []bool) []*Var {
		gs := make([]*Var, len(vs))
		off := 0
		for k, v := range vs {
			n := v.Shape()[d]
			if needs[k] {
				gs[k] = Narrow(g, d, off, n)
			}
			off += n
		}
		return gs
	})
}

// Stack joins equally shaped vs along a new dimension dim.
func Stack(vs []*Var, dim int) *Var {
	if len(vs) == 0 {
		panic("autograd.Stack: vs is empty")
	}
	nd := vs[0].Dim()
	if dim < 0 {
		dim += nd + 1
	}
	us := make([]*Var, len(vs))
	for k, v := range vs {
		if !v.SameShapeAs(vs[0]) {
			panic(fmt.Sprintf("autograd.Stack: vs[%d] has shape %v, vs[0] has %v", k, v.Shape(), vs[0].Shape()))
		}
		us[k] = Unsqueeze(v, dim)
	}
	return Concat(us, dim)
}

// Split cuts x along dim into consecutive pieces of the given sizes; each
// piece is a differentiable view (Narrow) of x.
func Split(x *Var, sizes []int, dim int) []*Var {
	pieces := tensor.Split(x.Value, sizes, dim) // validates sizes
	d := tensor.NormDim(dim, x.Dim())
	out := make([]*Var, len(pieces))
	off := 0
	for k, s := range sizes {
		out[k] = Narrow(x, d, off, s)
		off += s
	}
	return out
}
