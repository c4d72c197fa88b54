package tensor

import (
	"sync/atomic"

	"fmt"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// cudaMatmul is Matmul on the GPU: one sgemm launch per run of batch
// matrices that a single batch stride per operand describes (all of them for
// contiguous or broadcast operands), reading transposed views through their
// strides.
func cudaMatmul(a, b *Tensor) *Tensor {
	a, b = onGPU(a), onGPU(b)
	pl := planMatmul(a, b)
	ab, bb, batch, m, k, n := pl.a, pl.b, pl.batch, pl.m, pl.k, pl.n
	out := emptyCUDA(append(cloneInts(batch), m, n)...)
	bd := len(batch)
	switch {
	case out.Numel() == 0:
	case k == 0:
		cudaFill(out, 0)
	default:
		p := cuda.GemmParams{M: int32(m), N: int32(n), K: int32(k),
			ARow: int64(ab.strides[bd]), ACol: int64(ab.strides[bd+1]),
			BRow: int64(bb.strides[bd]), BCol: int64(bb.strides[bd+1]),
			CRow: int64(n), CCol: 1, Alpha: 1}
		for _, c := range []struct {
			name               string
			rows, cols         int
			rowStride, colStep int64
		}{{"a", m, k, p.ARow, p.ACol}, {"b", k, n, p.BRow, p.BCol}, {"out", m, n, p.CRow, p.CCol}} {
			if span := int64(c.rows-1)*abs64(c.rowStride) + int64(c.cols-1)*abs64(c.colStep); span >= 1<<31 {
				panic(fmt.Sprintf("tensor.Matmul: one matrix of %s spans %d elements, beyond the GEMM kernel's 32-bit offsets", c.name, span))
			}
		}
		outBatch := contiguousStrides(batch)
		for i := range outBatch {
			outBatch[i] *= m * n
		}
		bsh, bst := coalesce(batch, ab.strides[:bd], bb.strides[:bd], outBatch)
		gemmBatches(p, bsh, bst, ab.ptr(), bb.ptr(), out.ptr())
	}
	return pl.finish(out)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// gemmBatches launches p over the batch dims (sizes bsh, strides bst of a, b,
// c): the innermost batch dim goes to gridDim.z (in chunks of 65535), the
// others are walked on the host.
func gemmBatches(p cuda.GemmParams, bsh []int, bst [][]int, A, B, C cuda.DevicePtr) {
	g := theGPU()
	d := len(bsh) - 1
	inner := bsh[d]
	p.ABatch, p.BBatch, p.CBatch = int64(bst[0][d]), int64(bst[1][d]), int64(bst[2][d])
	const maxZ = 65535
	idx := make([]int, d)
	for {
		ao, bo, co := 0, 0, 0
		for i := 0; i < d; i++ {
			ao += idx[i] * bst[0][i]
			bo += idx[i] * bst[1][i]
			co += idx[i] * bst[2][i]
		}
		for z0 := 0; z0 < inner; z0 += maxZ {
			z := min(maxZ, inner-z0)
			pl := cuda.PlanSgemm(p, z)
			off := func(base cuda.DevicePtr, o int, st int64) cuda.DevicePtr {
				return base + cuda.DevicePtr(4*(int64(o)+int64(z0)*st))
			}
			g.sgemm(pl, p, off(A, ao, p.ABatch), off(B, bo, p.BBatch), off(C, co, p.CBatch))
		}
		k := d - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < bsh[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// gemmBK16, when set, runs the 128x128 GEMM tiles with 16 k per stage
// (sgemm_128x128x16_f32; tests: see SetCUDAGemmBK16).
var gemmBK16 atomic.Bool

// SetCUDAGemmBK16 makes the GPU's large GEMMs (matmuls and the Winograd
// convolutions' GEMMs) use sgemm_128x128x16_f32 instead of the 8-k stage
// kernel, so that checks cover both; it returns the previous setting.
// LAFITE_CUDA_GEMM=bk16 does the same for a whole process (A/B timings).
func SetCUDAGemmBK16(on bool) bool { return gemmBK16.Swap(on) }

// sgemm launches the GEMM p as planned by cuda.PlanSgemm (pl), on the 8-k
// or the 16-k stage kernel for the 128x128 tile: the one forced
// (SetCUDAGemmBK16, LAFITE_CUDA_GEMM=bk16), else the autotuner's choice for
// the shape (the 8-k kernel when it is off). A call with beta != 0 reads C,
// so it is never timed; it takes the choice made for its shape with beta 0.
func (g *gpuState) sgemm(pl cuda.LaunchPlan, p cuda.GemmParams, a, b, c cuda.DevicePtr) {
	if pl.Entry != "sgemm_128x128x8_f32" {
		g.plan(pl, p, a, b, c)
		return
	}
	names := []string{"bk8", "bk16"}
	if g.gemmBK16 || gemmBK16.Load() {
		names = names[1:]
	}
	entry := func(name string) string {
		if name == "bk16" {
			return "sgemm_128x128x16_f32"
		}
		return pl.Entry
	}
	// The loaders' mapping depends on which operands are transposed, so
	// that is part of the shape.
	shape := fmt.Sprintf("%dx%dx%d z%d a%s b%s", p.M, p.N, p.K, pl.Grid.Z,
		layoutName(p.ARow, p.ACol), layoutName(p.BRow, p.BCol))
	i := 0
	if p.Beta != 0 {
		i = max(0, tuner.lookup("gemm", shape, names))
	} else {
		i = g.choose("gemm", shape, names, 0, func(i int) {
			q := pl
			q.Entry = entry(names[i])
			g.plan(q, p, a, b, c)
		})
	}
	pl.Entry = entry(names[i])
	g.plan(pl, p, a, b, c)
}

// layoutName says how a GEMM operand is stored: "N" row-major, "T"
// column-major (a transposed view), "S" otherwise strided.
func layoutName(row, col int64) string {
	switch {
	case col == 1:
		return "N"
	case row == 1:
		return "T"
	}
	return "S"
}
