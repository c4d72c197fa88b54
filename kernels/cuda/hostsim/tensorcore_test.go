package hostsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// gemmCase is one GEMM for the tensor-core kernel: C = alpha A B + beta C
// over batch matrices, A and B optionally stored transposed. With inner > 1
// the batch is two dims (GemmParams.BatchInner), the inner one the slower
// in memory, as attention's heads of one projection are.
type gemmCase struct {
	M, N, K, batch int
	ta, tb         bool
	beta           float32
	inner          int
}

func (c gemmCase) params() cuda.GemmParams {
	p := cuda.GemmParams{M: int32(c.M), N: int32(c.N), K: int32(c.K), Alpha: 1.5, Beta: c.beta,
		ABatch: int64(c.M * c.K), BBatch: int64(c.K * c.N), CBatch: int64(c.M * c.N), CRow: int64(c.N), CCol: 1}
	if c.ta { // A stored [K, M]
		p.ARow, p.ACol = 1, int64(c.M)
	} else {
		p.ARow, p.ACol = int64(c.K), 1
	}
	if c.tb { // B stored [N, K]
		p.BRow, p.BCol = 1, int64(c.K)
	} else {
		p.BRow, p.BCol = int64(c.N), 1
	}
	if c.inner > 1 {
		outer := int64(c.batch / c.inner)
		p.BatchInner = int32(c.inner)
		p.AOuter, p.BOuter, p.COuter = p.ABatch, p.BBatch, p.CBatch
		p.ABatch, p.BBatch, p.CBatch = outer*p.ABatch, outer*p.BBatch, outer*p.CBatch
	}
	return p
}

// offsets are batch matrix z's offsets in A, B and C, as the kernel finds
// them.
func (c gemmCase) offsets(p cuda.GemmParams, z int) (a, b, cc int64) {
	zi, zo := int64(z), int64(0)
	if p.BatchInner > 1 {
		zo, zi = zi/int64(p.BatchInner), zi%int64(p.BatchInner)
	}
	return zi*p.ABatch + zo*p.AOuter, zi*p.BBatch + zo*p.BOuter, zi*p.CBatch + zo*p.COuter
}

// tensorCoreEntries: the tensor-core GEMM kernels, splitting operands as
// they are read and as they are staged.
var tensorCoreEntries = []cuda.SgemmKernel{
	{Entry: "sgemm_tc128_f32", Tile: 128}, {Entry: "sgemm_tcs128_f32", Tile: 128},
	{Entry: "sgemm_tc64_f32", Tile: 64}, {Entry: "sgemm_tcs64_f32", Tile: 64},
}

// runTensorCoreGemm launches kernel k for c on A, B and C0 (beta 0: C starts
// as NaN, which the kernel must not read) and returns C.
func runTensorCoreGemm(t *testing.T, d *Device, k cuda.SgemmKernel, c gemmCase, A, B, C0 []float32) []float32 {
	t.Helper()
	p := c.params()
	ap, bp := upload(t, d, A), upload(t, d, B)
	start := C0
	if c.beta == 0 {
		start = make([]float32, len(C0))
		for i := range start {
			start[i] = float32(math.NaN())
		}
	}
	cp := upload(t, d, start)
	pl := cuda.PlanSgemmKernel(p, c.batch, k)
	if err := d.Launch(function(t, d, pl.File, pl.Entry), pl.Grid, pl.Block, 0, p, ap, bp, cp); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(C0))
	if err := d.CopyDtoHF32(got, cp); err != nil {
		t.Fatal(err)
	}
	return got
}

// The tensor-core GEMM (three TF32 products per multiply-add) is as
// accurate as float32 multiply-adds: every output within 2e-6 of the sum of
// |alpha a b| over its k (float32 rounding is 6e-8 a step; a single TF32
// product, the big parts alone, errs by ~5e-4 of it and fails), over tiles
// cut by M, N and K, both orientations of each operand, batches (one dim or
// two), and beta.
func TestTensorCoreGemmHasFloat32Accuracy(t *testing.T) {
	d := ForTest(t)
	r := rand.New(rand.NewPCG(21, 22))
	for _, c := range []gemmCase{
		{128, 128, 16, 1, false, false, 0, 1},
		{200, 300, 77, 2, false, false, 0, 1},
		{130, 257, 129, 1, true, false, 0.5, 1},
		{129, 65, 200, 3, false, true, 0, 1},
		{256, 192, 64, 1, true, true, 1, 1},
		{64, 640, 520, 1, false, false, 0, 1},
		{70, 130, 40, 6, false, true, 0.5, 3},
	} {
		for _, entry := range tensorCoreEntries {
			t.Run(fmt.Sprintf("%s/%dx%dx%d_b%d_inner%d_ta%v_tb%v_beta%g", entry.Entry, c.M, c.N, c.K, c.batch, c.inner, c.ta, c.tb, c.beta), func(t *testing.T) {
				A, B, C0 := make([]float32, c.batch*c.M*c.K), make([]float32, c.batch*c.K*c.N), make([]float32, c.batch*c.M*c.N)
				for _, v := range [][]float32{A, B, C0} {
					for i := range v {
						// Full 24-bit mantissas, so that the small parts matter.
						v[i] = float32(r.NormFloat64())
					}
				}
				p := c.params()
				got := runTensorCoreGemm(t, d, entry, c, A, B, C0)
				worst := 0.0
				for z := 0; z < c.batch; z++ {
					ao, bo, co := c.offsets(p, z)
					for m := 0; m < c.M; m++ {
						for n := 0; n < c.N; n++ {
							var s, mag float64
							for k := 0; k < c.K; k++ {
								prod := float64(A[ao+int64(m)*p.ARow+int64(k)*p.ACol]) *
									float64(B[bo+int64(k)*p.BRow+int64(n)*p.BCol])
								s += prod
								mag += math.Abs(prod)
							}
							i := co + int64(m*c.N+n)
							want := 1.5*s + float64(c.beta)*float64(C0[i])
							scale := 1.5*mag + math.Abs(float64(c.beta)*float64(C0[i]))
							e := math.Abs(float64(got[i])-want) / scale
							if !(e <= 2e-6) {
								t.Fatalf("C[%d][%d][%d] = %g, want %g (error %.3g of the magnitude)", z, m, n, got[i], want, e)
							}
							worst = max(worst, e)
						}
					}
				}
				t.Logf("largest error %.3g of the products' magnitude", worst)
			})
		}
	}
}

// A non-finite operand makes the outputs it meets non-finite (NaN: an
// Inf's small part is Inf - Inf), including CUDA's canonical NaN, whose
// rounding carries into the sign bit; the other outputs stay finite.
func TestTensorCoreGemmKeepsNonFiniteValues(t *testing.T) {
	d := ForTest(t)
	c := gemmCase{M: 130, N: 70, K: 40, batch: 1}
	A, B, C0 := make([]float32, c.M*c.K), make([]float32, c.K*c.N), make([]float32, c.M*c.N)
	for i := range A {
		A[i] = 0.25 + float32(i%7)/8
	}
	for i := range B {
		B[i] = 0.5 + float32(i%5)/4
	}
	bad := map[int]bool{3: true, 129: true, 64: true, 100: true}
	A[3*c.K+5] = float32(math.Inf(1))
	A[129*c.K+39] = float32(math.Inf(-1))
	A[64*c.K] = math.Float32frombits(0x7fffffff)
	A[100*c.K+7] = float32(math.NaN())
	for _, entry := range tensorCoreEntries {
		got := runTensorCoreGemm(t, d, entry, c, A, B, C0)
		for m := 0; m < c.M; m++ {
			for n := 0; n < c.N; n++ {
				v := float64(got[m*c.N+n])
				if finite := !math.IsNaN(v) && !math.IsInf(v, 0); finite == bad[m] {
					t.Fatalf("%s: C[%d][%d] = %g; row %d has a non-finite operand: %v", entry.Entry, m, n, v, m, bad[m])
				}
			}
		}
	}
}
