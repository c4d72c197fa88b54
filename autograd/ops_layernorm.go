package autograd

import "github.com/lafite-go/lafite/tensor"

// LayerNorm normalises x over its trailing normDims dims:
// y = (x - μ)·rstd·w + b, rstd = 1/√(biased variance + eps).
// w and b have the shape of those dims and may be nil. The forward is one
// fused kernel; the backward recomputes x̂ = (x-μ)·rstd from Vars so that it
// is differentiable again:
// dx = rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)) with ĝ = g·w, dw = Σ g·x̂, db = Σ g.
func LayerNorm(x, w, b *Var, normDims int, eps float32) *Var {
	var wt, bt *tensor.Tensor
	if w != nil {
		wt = w.Value
	}
	if b != nil {
		bt = b.Value
	}
	yt, mean, rstd := tensor.LayerNorm(x.Value, wt, bt, normDims, eps)
	dims := make([]int, normDims)
	for i := range dims {
		dims[i] = x.Dim() - normDims + i
	}
	return record("layer_norm", yt, []*Var{x, w, b}, func(g *Var, needs []bool) []*Var {
		var gx, gw, gb *Var
		if needs[0] || needs[1] {
			mu, rs := layerNormStats(x, mean, rstd, dims)
			xhat := Mul(Sub(x, mu), rs)
			if needs[0] {
				gh := g
				if w != nil {
					gh = Mul(g, w)
				}
				proj := Mul(xhat, Mean(Mul(gh, xhat), dims, true))
				gx = Mul(rs, Sub(Sub(gh, Mean(gh, dims, true)), proj))
			}
			if needs[1] {
				mark := tensor.BufferMark()
				gw = sumToFresh(Mul(g, xhat), w.Shape(), mark)
			}
		}
		if needs[2] {
			gb = SumTo(g, b.Shape())
		}
		return []*Var{gx, gw, gb}
	})
}

// layerNormStats wraps the forward's saved mean and rstd as Vars that depend
// on x, so that x̂ built from them carries x's second-order terms without the
// statistics being computed again.
func layerNormStats(x *Var, mean, rstd *tensor.Tensor, dims []int) (mu, rs *Var) {
	xs := x.Shape()
	cnt := 1
	for _, d := range dims {
		cnt *= xs[d]
	}
	inv := 1 / float32(cnt)
	mu = record("layer_norm_mean", mean, []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{MulScalar(BroadcastTo(g, xs...), inv)}
	})
	rs = record("layer_norm_rstd", rstd, []*Var{x}, func(g *Var, _ []bool) []*Var {
		// d rstd/dx = -rstd³·(x-μ)/n; the term through μ vanishes since Σ(x-μ) = 0.
		return []*Var{Mul(g, MulScalar(Mul(PowScalar(rs, 3), Sub(x, mu)), -inv))}
	})
	return mu, rs
}
