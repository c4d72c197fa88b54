package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Matmul is torch.matmul: 1-D operands are promoted (and the added dim removed
// afterwards), leading batch dims broadcast, and the last two dims multiply.
// Transposed views are read through their strides without a copy.
func Matmul(a, b *Tensor) *Tensor { return MatmulScaled(a, b, 1) }

// MatmulScaled is alpha·Matmul(a, b) with alpha applied as the GEMM writes
// its result: a layer whose weight carries a constant gain (StyleGAN2's
// equalised learning rate) needs no separate pass over the weight.
func MatmulScaled(a, b *Tensor, alpha float32) *Tensor {
	if dispatchCUDA("Matmul", a, b) {
		return cudaMatmul(a, b, alpha)
	}
	pl := planMatmul(a, b)
	ab, bb, batch, m, k, n := pl.a, pl.b, pl.batch, pl.m, pl.k, pl.n
	outShape := append(cloneInts(batch), m, n)
	out := Empty(outShape...)
	nb := numel(batch)
	bd := len(batch)
	if nb == 1 {
		if pb := packedB(bb, bb.offset, k, n, bb.strides[bd], bb.strides[bd+1]); pb != nil {
			pb.Gemm(m, alpha, ab.storage.data, ab.offset, ab.strides[bd], ab.strides[bd+1], 0, out.storage.data, 0, n)
			return pl.finish(out)
		}
	}
	// Walk the batch with the strides of each (possibly broadcast) operand.
	idx := make([]int, bd)
	for t := 0; t < nb; t++ {
		ao, bo := ab.offset, bb.offset
		for i := 0; i < bd; i++ {
			ao += idx[i] * ab.strides[i]
			bo += idx[i] * bb.strides[i]
		}
		cpu.Gemm(m, n, k, alpha, ab.storage.data, ao, ab.strides[bd], ab.strides[bd+1],
			bb.storage.data, bo, bb.strides[bd], bb.strides[bd+1], 0, out.storage.data, t*m*n, n)
		for i := bd - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < batch[i] {
				break
			}
			idx[i] = 0
		}
	}
	return pl.finish(out)
}

// matmulPlan is torch.matmul's shape logic, shared by the devices: 1-D
// operands promoted to matrices, both broadcast over the batch dims.
type matmulPlan struct {
	a, b               *Tensor // views [batch..., m, k] and [batch..., k, n]
	batch              []int
	m, k, n            int
	squeezeA, squeezeB bool
}

func planMatmul(a, b *Tensor) matmulPlan {
	if a.Dim() == 0 || b.Dim() == 0 {
		panic("tensor.Matmul: operands must have at least one dimension")
	}
	p := matmulPlan{squeezeA: a.Dim() == 1, squeezeB: b.Dim() == 1}
	if p.squeezeA {
		a = a.Unsqueeze(0)
	}
	if p.squeezeB {
		b = b.Unsqueeze(1)
	}
	p.m, p.k = a.shape[a.Dim()-2], a.shape[a.Dim()-1]
	k2 := b.shape[b.Dim()-2]
	p.n = b.shape[b.Dim()-1]
	if p.k != k2 {
		panic(fmt.Sprintf("tensor.Matmul: inner dimensions differ: %v @ %v", a.shape, b.shape))
	}
	p.batch = mustBroadcast("Matmul", a.shape[:a.Dim()-2], b.shape[:b.Dim()-2])
	p.a = a.BroadcastTo(append(cloneInts(p.batch), p.m, p.k)...)
	p.b = b.BroadcastTo(append(cloneInts(p.batch), p.k, p.n)...)
	return p
}

// finish removes the dims that the promotion of 1-D operands added.
func (p matmulPlan) finish(out *Tensor) *Tensor {
	if p.squeezeA {
		out = out.Squeeze(-2)
	}
	if p.squeezeB {
		out = out.Squeeze(-1)
	}
	return out
}
