package autograd

import "github.com/lafite-go/lafite/tensor"

// Matmul is torch.matmul with batch broadcasting. Gradients: dA = G Bᵀ and
// dB = Aᵀ G, summed over broadcast batch dims; 1-D operands are promoted.
func Matmul(a, b *Var) *Var {
	return record("matmul", tensor.Matmul(a.Value, b.Value), []*Var{a, b}, func(g *Var, needs []bool) []*Var {
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
			ga = SumTo(Matmul(g2, Transpose(b2, -1, -2)), a2.Shape())
			ga = Reshape(ga, a.Shape()...)
		}
		if needs[1] {
			gb = SumTo(Matmul(Transpose(a2, -1, -2), g2), b2.Shape())
			gb = Reshape(gb, b.Shape()...)
		}
		return []*Var{ga, gb}
	})
}
