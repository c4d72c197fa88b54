package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// alongRows applies a row kernel along dim: dim is moved last, the rows made
// contiguous, and the result moved back and returned contiguous.
func alongRows(name string, x *Tensor, dim int, kernel func(rows, cols int, dst, src []float32)) *Tensor {
	perm, dim := dimLastPerm(name, x, dim)
	n := x.Dim()
	src := x.Permute(perm...).Contiguous()
	out := Empty(src.shape...)
	cols := x.shape[dim]
	if out.Numel() > 0 {
		kernel(out.Numel()/cols, cols, out.storage.data, src.Data())
	}
	if dim == n-1 {
		return out
	}
	return out.Permute(InversePermutation(perm)...).Contiguous()
}

// dimLastPerm validates dim for op name and returns the permutation of x's
// dims that moves it last, and dim normalised.
func dimLastPerm(name string, x *Tensor, dim int) ([]int, int) {
	if x.Dim() == 0 {
		panic(fmt.Sprintf("tensor.%s: x is 0-d; it needs a dimension to normalise over", name))
	}
	n := x.Dim()
	dim = normDim(dim, n)
	perm := make([]int, 0, n)
	for i := 0; i < n; i++ {
		if i != dim {
			perm = append(perm, i)
		}
	}
	perm = append(perm, dim)
	return perm, dim
}

// Softmax is exp(x_i - max) / Σ_j exp(x_j - max) along dim (any dim, negative
// counts from the end); the result is contiguous.
func Softmax(x *Tensor, dim int) *Tensor {
	if dispatchCUDA("Softmax", x) {
		return cudaSoftmax("Softmax", x, dim, 0)
	}
	return alongRows("Softmax", x, dim, cpu.SoftmaxRows)
}

// LogSoftmax is x_i - max - log Σ_j exp(x_j - max) along dim; the result is
// contiguous.
func LogSoftmax(x *Tensor, dim int) *Tensor {
	if dispatchCUDA("LogSoftmax", x) {
		return cudaSoftmax("LogSoftmax", x, dim, 1)
	}
	return alongRows("LogSoftmax", x, dim, cpu.LogSoftmaxRows)
}
