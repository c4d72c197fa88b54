package tensor

import "fmt"

// ModulatedWeights are the per-sample weights of StyleGAN2's fused
// (grouped) modulated convolution:
//
//	w'[n,o,i,·,·] = weight[o,i,·,·] · styles[n,i] · d[n,o]
//
// for weight [O,I,kh,kw], styles [N,I] and d [N,O] (nil: no
// demodulation), as [N,O,I,kh,kw]. On the CPU it is the two broadcast
// multiplications, bit for bit; on the GPU one pass (modulate.cu's
// modconv_weight_f32, rounding in the same order).
func ModulatedWeights(weight, styles, d *Tensor) *Tensor {
	if weight.Dim() != 4 || styles.Dim() != 2 || styles.Size(1) != weight.Size(1) {
		panic(fmt.Sprintf("tensor.ModulatedWeights: want weight [O,I,kh,kw] and styles [N,I] with the same I, got %v and %v",
			weight.Shape(), styles.Shape()))
	}
	n, o, in := styles.Size(0), weight.Size(0), weight.Size(1)
	if d != nil {
		requireShape("ModulatedWeights", "d", d.shape, []int{n, o})
	}
	if dispatchCUDA("ModulatedWeights", weight, styles, d) {
		return cudaModulatedWeights(weight, styles, d)
	}
	w := Mul(weight.Unsqueeze(0), styles.Reshape(n, 1, in, 1, 1))
	if d != nil {
		w = Mul(w, d.Reshape(n, o, 1, 1, 1))
	}
	return w
}
