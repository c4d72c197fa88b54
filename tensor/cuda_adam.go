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
