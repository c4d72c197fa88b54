package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	Register(Workload{Name: "sgemm_1024", Setup: sgemmSetup(1024, 1024, 1024), GPU: onGPU(sgemmGPUSetup(1024, 1024, 1024))})
	Register(Workload{Name: "sgemm_4096x512x512", Setup: sgemmSetup(4096, 512, 512), GPU: onGPU(sgemmGPUSetup(4096, 512, 512))})
}

// sgemmGPUSetup times C = A@B of GPU tensors through tensor.Matmul (the
// sgemm kernels), C from the caching allocator, and checks sampled entries
// of one product against float64 dot products.
func sgemmGPUSetup(m, n, k int) setupFunc {
	return func(e env) (func(), float64, float64) {
		m, n, k := e.size(m, 8), e.size(n, 8), e.size(k, 8)
		r := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
		ah, bh := randn(r, m*k), randn(r, k*n)
		a, b := tensor.New(ah, m, k).To(e.dev), tensor.New(bh, k, n).To(e.dev)
		c := tensor.Matmul(a, b).ToSlice()
		for s := 0; s < 64 && !tracing.Load(); s++ { // a trace computes no values
			i, j := r.IntN(m), r.IntN(n)
			var want, mag float64
			for p := 0; p < k; p++ {
				v := float64(ah[i*k+p]) * float64(bh[p*n+j])
				want += v
				mag += math.Abs(v)
			}
			if d := math.Abs(float64(c[i*n+j]) - want); d > 1e-5*mag {
				panic(fmt.Sprintf("bench: GPU sgemm %dx%dx%d wrong at [%d,%d]: %v, want %v", m, n, k, i, j, c[i*n+j], want))
			}
		}
		return func() { tensor.Matmul(a, b) }, 2 * float64(m) * float64(n) * float64(k), 0
	}
}

// sgemmSetup times C = A@B through the cpu.Gemm dispatch var (whatever variant
// is installed), row-major operands, C preallocated as torch's out= does.
func sgemmSetup(m, n, k int) func() (func(), float64, float64) {
	return func() (func(), float64, float64) {
		r := rand.New(rand.NewPCG(uint64(m), uint64(n*k)))
		a, b, c := randn(r, m*k), randn(r, k*n), make([]float32, m*n)
		run := func() { cpu.Gemm(m, n, k, 1, a, 0, k, 1, b, 0, n, 1, 0, c, 0, n) }
		run()
		for s := 0; s < 64; s++ {
			i, j := r.IntN(m), r.IntN(n)
			var want, mag float64
			for p := 0; p < k; p++ {
				v := float64(a[i*k+p]) * float64(b[p*n+j])
				want += v
				mag += math.Abs(v)
			}
			if d := math.Abs(float64(c[i*n+j]) - want); d > 1e-5*mag {
				panic(fmt.Sprintf("bench: sgemm %dx%dx%d wrong at [%d,%d]: %v, want %v", m, n, k, i, j, c[i*n+j], want))
			}
		}
		return run, 2 * float64(m) * float64(n) * float64(k), 0
	}
}

// randn returns n fresh N(0,1) values: workloads never run on zeros, whose
// arithmetic can be faster than real data's.
func randn(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}
