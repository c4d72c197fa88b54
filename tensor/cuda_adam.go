package tensor

import (
	"math"

	"github.com/lafite-go/lafite/kernels/cuda"
)

func cudaAdamStep(p, g, m, v *Tensor, a AdamParams) {
	g = onGPU(g)
	n := p.Numel()
	if n == 0 {
		return
	}
	gc, fg := contiguousOnGPU(g)
	defer fg()
	bc1 := 1 - math.Pow(float64(a.Beta1), float64(a.Step))
	bc2 := 1 - math.Pow(float64(a.Beta2), float64(a.Step))
	gpu := theGPU()
	gpu.launch("adam.cu", "adam_step_f32", gpu.grid1(int64(n)), cuda.D1(256), 0,
		int64(n), a.LR, a.Beta1, a.Beta2, a.Eps, float32(0), float32(bc1), float32(bc2), a.gradScale(), a.InfTo,
		p.ptr(), gc.ptr(), m.ptr(), v.ptr())
}

func cudaEMAUpdate(avg, src *Tensor, beta float32) {
	src = onGPU(src)
	n := avg.Numel()
	if n == 0 {
		return
	}
	sc, fs := contiguousOnGPU(src)
	defer fs()
	gpu := theGPU()
	gpu.launch("adam.cu", "ema_update_f32", gpu.grid1(int64(n)), cuda.D1(256), 0, int64(n), beta, avg.ptr(), sc.ptr())
}

// cudaAdamStepAll runs AdamStep on the tensors idx of ps, gs, ms, vs, all on
// the GPU, in multi-tensor launches.
func cudaAdamStepAll(ps, gs, ms, vs []*Tensor, idx []int, a AdamParams) {
	n := make([]int64, len(idx))
	ptrs := make([][4]cuda.DevicePtr, len(idx))
	for j, i := range idx {
		gc, fg := contiguousOnGPU(onGPU(gs[i]))
		defer fg()
		n[j] = int64(ps[i].Numel())
		ptrs[j] = [4]cuda.DevicePtr{ps[i].ptr(), gc.ptr(), ms[i].ptr(), vs[i].ptr()}
	}
	bc1 := 1 - math.Pow(float64(a.Beta1), float64(a.Step))
	bc2 := 1 - math.Pow(float64(a.Beta2), float64(a.Step))
	gpu := theGPU()
	for _, b := range cuda.MultiTensorBatches(n, ptrs) {
		gpu.launch("adam.cu", "adam_multi_f32", b.Grid(), cuda.D1(256), 0, b,
			a.LR, a.Beta1, a.Beta2, a.Eps, float32(0), float32(bc1), float32(bc2), a.gradScale(), a.InfTo)
	}
}

// cudaEMAUpdateAll runs EMAUpdate on the tensors idx of avgs and srcs, all
// on the GPU, in multi-tensor launches.
func cudaEMAUpdateAll(avgs, srcs []*Tensor, idx []int, beta float32) {
	n := make([]int64, len(idx))
	ptrs := make([][4]cuda.DevicePtr, len(idx))
	for j, i := range idx {
		sc, fs := contiguousOnGPU(onGPU(srcs[i]))
		defer fs()
		n[j] = int64(avgs[i].Numel())
		ptrs[j] = [4]cuda.DevicePtr{avgs[i].ptr(), sc.ptr()}
	}
	gpu := theGPU()
	for _, b := range cuda.MultiTensorBatches(n, ptrs) {
		gpu.launch("adam.cu", "ema_multi_f32", b.Grid(), cuda.D1(256), 0, b, beta)
	}
}
