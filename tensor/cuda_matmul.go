package tensor

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// cudaMatmul is Matmul on the GPU: one sgemm launch per run of batch
// matrices that a single batch stride per operand describes (all of them for
// contiguous or broadcast operands), reading transposed views through their
// strides; alpha scales the product in the kernel's epilogue.
func cudaMatmul(a, b *Tensor, alpha float32) *Tensor {
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
			CRow: int64(n), CCol: 1, Alpha: alpha}
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
		if s := matmulSplitK(m, n, k, bsh); s > 1 {
			sum := splitKMatmul(p, s, bsh[0], bst, ab.ptr(), bb.ptr())
			theGPU().free(out.storage)
			out = sum.Reshape(out.shape...)
			break
		}
		gemmBatches(p, bsh, bst, ab.ptr(), bb.ptr(), out.ptr())
	}
	return pl.finish(out)
}

// splitKForced, when not 0, is the K split every GEMM of one batch dim
// whose K it divides takes (tests: see SetCUDASplitK).
var splitKForced atomic.Int32

// SetCUDASplitK makes every GPU matmul with one batch dim whose K is a
// multiple of s cut K into s slices (cudaMatmul's split-K path), so that
// checks run it on small shapes; 0 restores cuda.SplitK's choice, 1 turns
// splitting off. It returns the previous setting.
func SetCUDASplitK(s int) int { return int(splitKForced.Swap(int32(s))) }

// matmulSplitK is the number of K slices for a matmul of batch dims bsh
// (after coalescing): cuda.SplitK's, or the forced one; 1 with more than one
// batch dim, or where the slices' grid would not fit gridDim.z.
func matmulSplitK(m, n, k int, bsh []int) int {
	if len(bsh) != 1 {
		return 1
	}
	s := int(splitKForced.Load())
	switch {
	case s == 0 && theGPU().noSplitK:
		return 1
	case s == 0:
		s = cuda.SplitK(m, n, k, bsh[0], theGPU().props.SMs)
	case k%s != 0:
		s = 1
	}
	if s*bsh[0] > 65535 {
		return 1
	}
	return s
}

// splitKMatmul is the GEMM p over batch matrices (strides bst of a, b and
// the output) as s GEMMs of K/s in one grid, each writing its partial
// product to a workspace [s, batch, M, N], then their sum (one reduction,
// in a fixed order): [batch, M, N]. alpha scales the partials.
func splitKMatmul(p cuda.GemmParams, s, batch int, bst [][]int, a, b cuda.DevicePtr) *Tensor {
	m, n, kc := int(p.M), int(p.N), int(p.K)/s
	ws := emptyCUDA(s, batch, m, n)
	defer theGPU().free(ws.storage)
	p.K = int32(kc)
	sliceA, sliceB := kc*int(p.ACol), kc*int(p.BRow) // where slice j starts: k = j·kc
	if batch == 1 {
		gemmBatches(p, []int{s}, [][]int{{sliceA}, {sliceB}, {m * n}}, a, b, ws.ptr())
	} else {
		gemmBatches(p, []int{s, batch}, [][]int{{sliceA, bst[0][0]}, {sliceB, bst[1][0]}, {batch * m * n, m * n}}, a, b, ws.ptr())
	}
	return Sum(ws, []int{0}, false)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// gemmBatches launches p over the batch dims (sizes bsh, strides bst of a, b,
// c): the innermost batch dim goes to gridDim.z (in chunks of 65535), and
// the one outside it too (GemmParams.BatchInner) when both fit one grid;
// any others are walked on the host.
func gemmBatches(p cuda.GemmParams, bsh []int, bst [][]int, A, B, C cuda.DevicePtr) {
	g := theGPU()
	d := len(bsh) - 1
	inner := bsh[d]
	p.ABatch, p.BBatch, p.CBatch = int64(bst[0][d]), int64(bst[1][d]), int64(bst[2][d])
	const maxZ = 65535
	walked := d // batch dims walked on the host: bsh[:walked]
	if d > 0 && inner > 1 && inner*bsh[d-1] <= maxZ {
		walked = d - 1
		p.BatchInner = int32(inner)
		p.AOuter, p.BOuter, p.COuter = int64(bst[0][d-1]), int64(bst[1][d-1]), int64(bst[2][d-1])
		inner *= bsh[d-1]
	}
	idx := make([]int, walked)
	for {
		ao, bo, co := 0, 0, 0
		for i := 0; i < walked; i++ {
			ao += idx[i] * bst[0][i]
			bo += idx[i] * bst[1][i]
			co += idx[i] * bst[2][i]
		}
		for z0 := 0; z0 < inner; z0 += maxZ { // z0 > 0 only with one batch dim in the grid
			z := min(maxZ, inner-z0)
			pl := cuda.PlanSgemm(p, z)
			off := func(base cuda.DevicePtr, o int, st int64) cuda.DevicePtr {
				return base + cuda.DevicePtr(4*(int64(o)+int64(z0)*st))
			}
			g.sgemm(pl, p, off(A, ao, p.ABatch), off(B, bo, p.BBatch), off(C, co, p.CBatch))
		}
		k := walked - 1
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

// gemmForced, when not empty, names the GEMM kernel of cuda.SgemmKernels
// that every large GEMM uses (tests: see SetCUDAGemmKernel).
var gemmForced atomic.Value // string

// SetCUDAGemmKernel makes the GPU's large GEMMs (matmuls and the Winograd
// convolutions' GEMMs) use the kernel of cuda.SgemmKernels with that name
// ("bk8", "bk16", "t64", "tc", "tcs", "tc64", "tcs64"), so that checks cover each; "" restores the
// autotuner's (or the rules') choice. It returns the previous setting.
// LAFITE_CUDA_GEMM does the same for a whole process (A/B timings).
func SetCUDAGemmKernel(name string) string {
	if _, err := gemmKernelSetting(name); err != nil {
		panic("tensor.SetCUDAGemmKernel: " + err.Error())
	}
	prev, _ := gemmForced.Swap(name).(string)
	return prev
}

// gemmKernelSetting checks LAFITE_CUDA_GEMM's value.
func gemmKernelSetting(v string) (string, error) {
	if v == "" || slices.ContainsFunc(cuda.SgemmKernels, func(k cuda.SgemmKernel) bool { return k.Name == v }) {
		return v, nil
	}
	return "", fmt.Errorf("GEMM kernel %q (LAFITE_CUDA_GEMM): want one of bk8, bk16, t64, tc, tcs, tc64, tcs64", v)
}

// sgemm launches the GEMM p as planned by cuda.PlanSgemm (pl). Where that
// is a 128x128 tile, any of cuda.SgemmKernels can run it: the one forced
// (SetCUDAGemmKernel, LAFITE_CUDA_GEMM), else the autotuner's choice for the
// shape, else (tuning off) the 8-k stage 128x128 tile, or the 64x64 tile
// when the 128x128 grid has fewer blocks than the GPU has SMs. A call with
// beta != 0 reads C, so it is never timed; it takes the choice made for its
// shape with beta 0.
func (g *gpuState) sgemm(pl cuda.LaunchPlan, p cuda.GemmParams, a, b, c cuda.DevicePtr) {
	if pl.Entry == "sgemm_small_f32" {
		g.sgemmFew(pl, p, a, b, c)
		return
	}
	if pl.Entry != cuda.SgemmKernels[0].Entry {
		g.plan(pl, p, a, b, c)
		return
	}
	kernels := cuda.SgemmKernelsFor(g.props.CC())
	forced, _ := gemmForced.Load().(string)
	if forced == "" {
		forced = g.gemmForced
	}
	fallback := 0
	if forced != "" {
		kernels = slices.DeleteFunc(kernels, func(k cuda.SgemmKernel) bool { return k.Name != forced })
		if len(kernels) == 0 {
			panic(gemmUnsupported(forced, g.props).Error())
		}
	} else if int(pl.Grid.X*pl.Grid.Y*pl.Grid.Z) < g.props.SMs {
		fallback = slices.IndexFunc(kernels, func(k cuda.SgemmKernel) bool { return k.Tile == 64 })
	}
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.Name
	}
	z := int(pl.Grid.Z)
	i := g.chooseGemm("gemm", p, z, names, fallback, func(i int) {
		g.plan(cuda.PlanSgemmKernel(p, z, kernels[i]), p, a, b, c)
	}, c)
	g.plan(cuda.PlanSgemmKernel(p, z, kernels[i]), p, a, b, c)
}

// chooseGemm is g.choose for a GEMM p over z batch matrices writing c: the
// shape names the operands' layouts too (the loaders' mapping depends on
// which are transposed), and a call with beta != 0, which reads C, is never
// timed: it takes the choice made for its shape with beta 0, or rule.
func (g *gpuState) chooseGemm(op string, p cuda.GemmParams, z int, names []string, rule int, run func(i int), c cuda.DevicePtr) int {
	shape := fmt.Sprintf("%dx%dx%d z%d a%s b%s", p.M, p.N, p.K, z,
		layoutName(p.ARow, p.ACol), layoutName(p.BRow, p.BCol))
	if p.Beta != 0 {
		if j := tuner.lookup(op, shape, names); j >= 0 {
			return j
		}
		return rule
	}
	return g.choose(op, shape, names, rule, run, gemmOutput(p, z, c))
}

// skinnyForced, when set, sends every GEMM too small for the large tiles to
// sgemm_skinny_f32 (tests: see SetCUDASkinnyGemm).
var skinnyForced atomic.Bool

// SetCUDASkinnyGemm makes every GPU GEMM that is too small in M or N for the
// large tiles run on sgemm_skinny_f32 (16 x 32 tiles, K split over warps)
// rather than the rules' or the autotuner's choice between it and the 16x16
// tile, so that checks cover it; it returns the previous setting.
// LAFITE_CUDA_SKINNY_GEMM=0 keeps it out altogether.
func SetCUDASkinnyGemm(on bool) bool { return skinnyForced.Swap(on) }

// sgemmFew runs a GEMM that cuda.PlanSgemm gives the 16x16 tile (small, its
// plan): there, or on sgemm_skinny_f32: the forced one, else the autotuner's
// choice for the shape, else the rules' (cuda.SkinnyGemm).
func (g *gpuState) sgemmFew(small cuda.LaunchPlan, p cuda.GemmParams, a, b, c cuda.DevicePtr) {
	z := int(small.Grid.Z)
	plans := []cuda.LaunchPlan{small, cuda.PlanSgemmSkinny(p, z)}
	switch {
	case skinnyForced.Load():
		g.plan(plans[1], p, a, b, c)
		return
	case cuda.FallbackNamed("skinny-gemm").IsOff():
		g.plan(small, p, a, b, c)
		return
	}
	rule := 0
	if cuda.SkinnyGemm(p) {
		rule = 1
	}
	i := g.chooseGemm("gemm-few", p, z, []string{"small", "skinny"}, rule, func(i int) { g.plan(plans[i], p, a, b, c) }, c)
	g.plan(plans[i], p, a, b, c)
}

// gemmUnsupported says why GEMM kernel name (LAFITE_CUDA_GEMM's value)
// cannot run on the device props, or is nil where it can.
func gemmUnsupported(name string, props cuda.DeviceProps) error {
	for _, k := range cuda.SgemmKernels {
		switch {
		case k.Name != name:
		case k.MinCC > props.CC():
			return fmt.Errorf("GEMM kernel %s (LAFITE_CUDA_GEMM) needs compute capability %d.%d or later; GPU %q is %d.%d",
				name, k.MinCC/10, k.MinCC%10, props.Name, props.Major, props.Minor)
		case k.TensorCores && cuda.TensorCoresOff():
			return fmt.Errorf("GEMM kernel %s (LAFITE_CUDA_GEMM) runs on the tensor cores, which %s=0 turns off", name, cuda.TensorCoresEnv)
		}
	}
	return nil
}

// gemmOutput is the C the GEMM p writes over z batches, as a view: [z, M,
// N], or [z/BatchInner, BatchInner, M, N] when the grid spans two batch dims
// (the same elements as long as C is contiguous, as matmul's outputs are;
// this follows the kernel's addressing whatever C is).
func gemmOutput(p cuda.GemmParams, z int, c cuda.DevicePtr) *Tensor {
	if bi := int(p.BatchInner); bi > 1 {
		return rawCUDAView(c, []int{z / bi, bi, int(p.M), int(p.N)}, []int{int(p.COuter), int(p.CBatch), int(p.CRow), int(p.CCol)})
	}
	return rawCUDAView(c, []int{z, int(p.M), int(p.N)}, []int{int(p.CBatch), int(p.CRow), int(p.CCol)})
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
