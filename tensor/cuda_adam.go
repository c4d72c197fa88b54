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
	gpu := theGPU()
	args := append(append([]any{int64(n)}, adamKernelScalars(a)...), p.ptr(), gc.ptr(), m.ptr(), v.ptr())
	gpu.launch("adam.cu", "adam_step_f32", gpu.grid1(int64(n)), cuda.D1(256), 0, args...)
}

// adamKernelScalars are the hyperparameters adam_step_f32 and
// adam_multi_f32 both take, in their order, so that the two compute alike.
func adamKernelScalars(a AdamParams) []any {
	bc1 := 1 - math.Pow(float64(a.Beta1), float64(a.Step))
	bc2 := 1 - math.Pow(float64(a.Beta2), float64(a.Step))
	return []any{a.LR, a.Beta1, a.Beta2, a.Eps, float32(0), float32(bc1), float32(bc2), a.gradScale(), a.InfTo}
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

// launchMulti runs entry of adam.cu over the tensors idx in multi-tensor
// launches: in[i] is the tensor read (a gradient, a source), read through a
// contiguous copy where it is a view; ptrs(i, in) gives the tensor's
// pointers in the table's order; scalars follow the table.
func launchMulti(entry string, idx []int, numel func(i int) int, in []*Tensor,
	ptrs func(i int, in cuda.DevicePtr) [4]cuda.DevicePtr, scalars ...any) {
	n := make([]int64, len(idx))
	table := make([][4]cuda.DevicePtr, len(idx))
	for j, i := range idx {
		c, free := contiguousOnGPU(onGPU(in[i]))
		defer free()
		n[j] = int64(numel(i))
		table[j] = ptrs(i, c.ptr())
	}
	gpu := theGPU()
	for _, b := range cuda.MultiTensorBatches(n, table) {
		gpu.launch("adam.cu", entry, b.Grid(), cuda.D1(256), 0, append([]any{b}, scalars...)...)
	}
}

// cudaAdamStepAll runs AdamStep on the tensors idx of ps, gs, ms, vs, all on
// the GPU, in multi-tensor launches (one per tensor with
// LAFITE_CUDA_MULTI_TENSOR=0).
func cudaAdamStepAll(ps, gs, ms, vs []*Tensor, idx []int, a AdamParams) {
	if theGPU().noMultiTensor {
		for _, i := range idx {
			cudaAdamStep(ps[i], gs[i], ms[i], vs[i], a)
		}
		return
	}
	launchMulti("adam_multi_f32", idx, func(i int) int { return ps[i].Numel() }, gs,
		func(i int, g cuda.DevicePtr) [4]cuda.DevicePtr {
			return [4]cuda.DevicePtr{ps[i].ptr(), g, ms[i].ptr(), vs[i].ptr()}
		},
		adamKernelScalars(a)...)
}

// cudaEMAUpdateAll runs EMAUpdate on the tensors idx of avgs and srcs, all
// on the GPU, in multi-tensor launches (one per tensor with
// LAFITE_CUDA_MULTI_TENSOR=0).
func cudaEMAUpdateAll(avgs, srcs []*Tensor, idx []int, beta float32) {
	if theGPU().noMultiTensor {
		for _, i := range idx {
			cudaEMAUpdate(avgs[i], srcs[i], beta)
		}
		return
	}
	launchMulti("ema_multi_f32", idx, func(i int) int { return avgs[i].Numel() }, srcs,
		func(i int, src cuda.DevicePtr) [4]cuda.DevicePtr { return [4]cuda.DevicePtr{avgs[i].ptr(), src} },
		beta)
}
