package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cpu"
)

// Demod returns StyleGAN2's demodulation coefficients
// d[n,o] = rsqrt(Σ_{i,ky,kx} (weight[o,i,ky,kx]·styles[n,i])² + eps) for
// weight [O,I,kh,kw] and styles [N,I], in one fused kernel
// (kernels/cpu/demod_ref.go), or on the GPU in two (modulate.cu: the
// filters' squared norms per input channel, then one warp per (n, o)).
func Demod(weight, styles *Tensor, eps float32) *Tensor {
	if weight.Dim() != 4 || styles.Dim() != 2 || styles.Size(1) != weight.Size(1) {
		panic(fmt.Sprintf("tensor.Demod: want weight [O,I,kh,kw] and styles [N,I] with the same I, got %v and %v", weight.Shape(), styles.Shape()))
	}
	if dispatchCUDA("Demod", weight, styles) {
		return cudaDemod(weight, styles, eps)
	}
	w, s := weight.Contiguous(), styles.Contiguous()
	n, o, in := s.Size(0), w.Size(0), w.Size(1)
	out := Empty(n, o)
	cpu.Demod(n, o, in, w.Size(2)*w.Size(3), w.Data(), s.Data(), eps, out.Data())
	return out
}
