package autograd

import "github.com/lafite-go/lafite/tensor"

// Indexing ops and their adjoints. Each gradient is the adjoint op recorded
// with the original op as its own gradient, so every order works.

// IndexSelect picks slices along dim: out[..., k, ...] = x[..., idx[k], ...].
func IndexSelect(x *Var, dim int, idx []int) *Var {
	idx = append([]int(nil), idx...)
	shape := x.Shape()
	return record("index_select", tensor.IndexSelect(x.Value, dim, idx), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{IndexAdd(shape, dim, idx, g)}
	})
}

// IndexAdd scatters src into zeros of shape: out[..., idx[k], ...] += src[..., k, ...].
func IndexAdd(shape []int, dim int, idx []int, src *Var) *Var {
	idx = append([]int(nil), idx...)
	return record("index_add", tensor.IndexAdd(shape, dim, idx, src.Value), []*Var{src}, func(g *Var, _ []bool) []*Var {
		return []*Var{IndexSelect(g, dim, idx)}
	})
}

// Gather is torch.gather with idx row-major in idxShape.
func Gather(x *Var, dim int, idx []int, idxShape []int) *Var {
	idx = append([]int(nil), idx...)
	shape := x.Shape()
	return record("gather", tensor.Gather(x.Value, dim, idx, idxShape), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{ScatterAdd(shape, dim, idx, g)}
	})
}

// ScatterAdd is the adjoint of Gather: zeros of shape plus src scattered
// along dim at idx (shaped like src).
func ScatterAdd(shape []int, dim int, idx []int, src *Var) *Var {
	idx = append([]int(nil), idx...)
	srcShape := src.Shape()
	return record("scatter_add", tensor.ScatterAdd(shape, dim, idx, src.Value), []*Var{src}, func(g *Var, _ []bool) []*Var {
		return []*Var{Gather(g, dim, idx, srcShape)}
	})
}

// Embedding looks up rows of weight [V, D] for ids laid out in idsShape;
// the result has shape idsShape + [D]. The weight gradient is a dense
// IndexAdd of the output gradient's rows.
func Embedding(weight *Var, ids []int, idsShape []int) *Var {
	ids = append([]int(nil), ids...)
	shape := weight.Shape()
	return record("embedding", tensor.Embedding(weight.Value, ids, idsShape), []*Var{weight}, func(g *Var, _ []bool) []*Var {
		return []*Var{IndexAdd(shape, 0, ids, Reshape(g, len(ids), shape[1]))}
	})
}

// Repeat is torch.Tensor.repeat. The gradient sums g over the copies: g
// viewed as [r0, n0, r1, n1, ...] summed over the r axes.
func Repeat(x *Var, reps ...int) *Var {
	reps = append([]int(nil), reps...)
	xs := x.Shape()
	return record("repeat", tensor.Repeat(x.Value, reps...), []*Var{x}, func(g *Var, _ []bool) []*Var {
		lead := len(reps) - len(xs)
		split := make([]int, 0, 2*len(reps))
		sumDims := make([]int, len(reps))
		for d, r := range reps {
			n := 1
			if d >= lead {
				n = xs[d-lead]
			}
			split = append(split, r, n)
			sumDims[d] = 2 * d
		}
		return []*Var{Reshape(Sum(Reshape(g, split...), sumDims, false), xs...)}
	})
}

// Tile is torch.tile: Repeat with reps padded by leading 1s to x's rank.
func Tile(x *Var, reps ...int) *Var {
	if pad := x.Dim() - len(reps); pad > 0 {
		full := make([]int, pad, x.Dim())
		for i := range full {
			full[i] = 1
		}
		reps = append(full, reps...)
	}
	return Repeat(x, reps...)
}
