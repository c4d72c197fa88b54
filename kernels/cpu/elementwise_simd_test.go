package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type elementwiseKernels struct {
	unary  func(op UnaryOp, p float32, n int, dst []float32, d, ds int, x []float32, a, as int)
	binary func(op BinaryOp, n int, dst []float32, d, ds int, a []float32, ao, as int, b []float32, bo, bs int)
}

func elementwiseVariants(t testing.TB) map[string]elementwiseKernels {
	out := map[string]elementwiseKernels{}
	prev := ActiveVariant()
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		out[name] = elementwiseKernels{Unary, Binary}
	}
	if err := UseVariant(prev); err != nil {
		t.Fatal(err)
	}
	return out
}

// specialSlice mixes N(0,1) values with the IEEE special cases the vector
// instructions could treat differently from Go's scalar code.
func specialSlice(r *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), 1e-40, -1e-40, math.MaxFloat32, 1, -1}
	s := randSlice(r, n)
	for i := range s {
		if r.IntN(8) == 0 {
			s[i] = specials[r.IntN(len(specials))]
		}
	}
	return s
}

func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true // NaN payloads and signs may differ
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func compareRows(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: element %d = %v (%#x), want %v (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

var elementwiseLengths = []int{0, 1, 7, 31, 32, 33, 63, 64, 65, 127, 1000, vecParallelElems + 37, 3*vecParallelElems + 5}

func TestBinaryVariantsMatchRefBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ops := []BinaryOp{OpAdd, OpSub, OpMul, OpDiv, OpMaximum, OpGreater}
	// (as, bs, ds): contiguous, either side broadcast, strided.
	strides := [][3]int{{1, 1, 1}, {1, 0, 1}, {0, 1, 1}, {2, 1, 1}, {1, 1, 2}}
	for name, k := range elementwiseVariants(t) {
		for _, n := range elementwiseLengths {
			for _, op := range ops {
				for _, st := range strides {
					if n > 1000 && (st[0] > 1 || st[2] > 1) {
						continue // long strided rows take the reference path like short ones
					}
					as, bs, ds := st[0], st[1], st[2]
					a, b := specialSlice(r, 3+n*2), specialSlice(r, 5+n*2)
					got, want := specialSlice(r, 2+n*2), make([]float32, 2+n*2)
					copy(want, got)
					k.binary(op, n, got, 2, ds, a, 3, as, b, 5, bs)
					BinaryRef(op, n, want, 2, ds, a, 3, as, b, 5, bs)
					compareRows(t, fmt.Sprintf("%s op %d n %d strides %v", name, op, n, st), got, want)
				}
			}
			// In place: dst is a.
			a, b := specialSlice(r, n), specialSlice(r, n)
			want := make([]float32, n)
			BinaryRef(OpMul, n, want, 0, 1, a, 0, 1, b, 0, 1)
			k.binary(OpMul, n, a, 0, 1, a, 0, 1, b, 0, 1)
			compareRows(t, fmt.Sprintf("%s in-place mul n %d", name, n), a, want)
		}
	}
}

func TestUnaryVariantsMatchRefBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ops := []struct {
		op UnaryOp
		p  float32
	}{{OpAddScalar, 0.75}, {OpMulScalar, -1.5}, {OpRsubScalar, 2}, {OpNeg, 0}, {OpSquare, 0},
		{OpRelu, 0}, {OpLeakyRelu, 0.2}, {OpLeakyRelu, 3}, {OpExp, 0}}
	for name, k := range elementwiseVariants(t) {
		for _, n := range elementwiseLengths {
			for _, o := range ops {
				for _, st := range [][2]int{{1, 1}, {2, 1}, {1, 3}} {
					if n > 1000 && st != [2]int{1, 1} && o.op != OpExp {
						continue // exp keeps the long strided rows: they split between workers
					}
					x := specialSlice(r, 1+n*3)
					got, want := specialSlice(r, 4+n*2), make([]float32, 4+n*2)
					copy(want, got)
					k.unary(o.op, o.p, n, got, 4, st[0], x, 1, st[1])
					UnaryRef(o.op, o.p, n, want, 4, st[0], x, 1, st[1])
					compareRows(t, fmt.Sprintf("%s op %d p %v n %d strides %v", name, o.op, o.p, n, st), got, want)
				}
			}
		}
	}
}

func TestBinaryVariantsCheckBounds(t *testing.T) {
	for name, k := range elementwiseVariants(t) {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: short dst did not panic", name)
				}
			}()
			a := make([]float32, 256)
			k.binary(OpAdd, 256, make([]float32, 255), 0, 1, a, 0, 1, a, 0, 1)
		}()
	}
}

func BenchmarkBinaryAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{4096, 1 << 16, 1 << 22} {
		x, y, z := randSlice(r, n), randSlice(r, n), make([]float32, n)
		for name, k := range elementwiseVariants(b) {
			b.Run(fmt.Sprintf("%s/n%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					k.binary(OpAdd, n, z, 0, 1, x, 0, 1, y, 0, 1)
				}
				b.ReportMetric(12*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

// TestQuickGeluVariants: the vector QuickGelu is float32 (exp of the exact
// -|1.702x| within about 1 ulp, then 1+e, a division and a product, half an
// ulp each), so within a few ulp of the float64 reference: 1e-6 relative.
// Where e^-|1.702x| is below FLT_MIN, AVX2 takes it as 0 (an absolute error
// under 1.2e-38·|x|) and AVX-512 as a denormal.
func TestQuickGeluVariants(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for name, k := range elementwiseVariants(t) {
		worst := 0.0
		for _, n := range elementwiseLengths {
			for _, scale := range []float32{1, 10, 100} {
				x := specialSlice(r, n)
				for i := range x {
					x[i] *= scale
				}
				got, want := make([]float32, n+1), make([]float32, n+1)
				got[n], want[n] = 7, 7 // not written
				k.unary(OpQuickGelu, 0, n, got, 0, 1, x, 0, 1)
				UnaryRef(OpQuickGelu, 0, n, want, 0, 1, x, 0, 1)
				for i, w := range want {
					g := got[i]
					if w != w || math.IsInf(float64(w), 0) || i == n {
						if !sameBits(g, w) {
							t.Fatalf("%s n %d: quick_gelu(%v) = %v, want %v", name, n, x[i], g, w)
						}
						continue
					}
					d := math.Abs(float64(g) - float64(w))
					if d > 1e-6*math.Abs(float64(w))+1.2e-38*math.Abs(float64(x[i]))+1e-44 {
						t.Fatalf("%s n %d: quick_gelu(%v) = %v, want %v", name, n, x[i], g, w)
					}
					if w != 0 && math.Abs(float64(w)) > 1e-30 {
						worst = max(worst, d/math.Abs(float64(w)))
					}
				}
			}
			// In place, strided (the reference path), and a short row.
			x := specialSlice(r, 2*n+1)
			want := make([]float32, 2*n+1)
			UnaryRef(OpQuickGelu, 0, n, want, 0, 2, x, 0, 2)
			k.unary(OpQuickGelu, 0, n, x, 0, 2, x, 0, 2)
			for i := 0; i < n; i++ {
				if math.Abs(float64(x[2*i]-want[2*i])) > 1e-6*math.Abs(float64(want[2*i]))+1e-30 && !sameBits(x[2*i], want[2*i]) {
					t.Fatalf("%s n %d strided in place: %v, want %v", name, n, x[2*i], want[2*i])
				}
			}
		}
		t.Logf("%s: largest relative error %.3g", name, worst)
	}
}

func BenchmarkQuickGelu(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	n := 616 * 2048 // CLIP text MLP activations, batch 8
	x, y := randSlice(r, n), make([]float32, n)
	for name, k := range elementwiseVariants(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.unary(OpQuickGelu, 0, n, y, 0, 1, x, 0, 1)
			}
			b.ReportMetric(8*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
