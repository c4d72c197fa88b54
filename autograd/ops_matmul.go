package autograd

import (
	"fmt"

	"github.com/lafite-go/lafite/tensor"
)

// Matmul is torch.matmul with batch broadcasting. Gradients: dA = G Bᵀ and
// dB = Aᵀ G, summed over broadcast batch dims; 1-D operands are promoted.
func Matmul(a, b *Var) *Var { return MatmulScaled(a, b, 1) }

// MatmulScaled is alpha·Matmul(a, b), the scale applied inside the product
// (tensor.MatmulScaled), so that a constant weight gain costs no pass of its
// own, forward or backward: dA = alpha·G Bᵀ, dB = alpha·Aᵀ G.
func MatmulScaled(a, b *Var, alpha float32) *Var {
	return record("matmul", tensor.MatmulScaled(a.Value, b.Value, alpha), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
		a2, b2, g2 := a, b, g
		if a.Dim() == 1 {
			a2 = Unsqueeze(a, 0)
			g2 = Unsqueeze(g2, -2)
		}
		if b.Dim() == 1 {
			b2 = Unsqueeze(b, 1)
			g2 = Unsqueeze(g2, -1)
		}
		var ga, gb *Var
		if needs[0] {
			ga = SumTo(MatmulScaled(g2, Transpose(b2, -1, -2), alpha), a2.Shape())
			ga = Reshape(ga, a.Shape()...)
		}
		if needs[1] {
			gb = SumTo(MatmulScaled(Transpose(a2, -1, -2), g2, alpha), b2.Shape())
			gb = Reshape(gb, b.Shape()...)
		}
		return []*Var{ga, gb}
	})
}

// Linear is gain·x·wᵀ for x [..., in] and w [out, in] (torch's F.linear
// with a constant gain folded into the GEMM). Its weight gradient is formed
// as gain·gᵀx, [out, in] like w itself, rather than as the transpose of
// Matmul's gradient for wᵀ, so that an optimizer reads it without a copy.
func Linear(x, w *Var, gain float32) *Var {
	if w.Dim() != 2 || x.Dim() < 1 || x.Size(-1) != w.Size(1) {
		panic(fmt.Sprintf("autograd.Linear: want x [..., in] and w [out, in]; got %v and %v", x.Shape(), w.Shape()))
	}
	y := tensor.MatmulScaled(x.Value, w.Value.Transpose(0, 1), gain)
	return record("linear", y, []*Var{x, w}, func(g *Var, needs []bool) []*Var {
		var gx, gw *Var
		if needs[0] {
			gx = MatmulScaled(g, w, gain)
		}
		if needs[1] {
			rows := g.Numel() / w.Size(0)
			gw = MatmulScaled(Transpose(Reshape(g, rows, w.Size(0)), 0, 1), Reshape(x, rows, w.Size(1)), gain)
		}
		return []*Var{gx, gw}
	})
}
