package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances of the vector row kernels against the float64 references.
//
// Softmax: the exp is float32, within about 1 ulp (2^-23 relative, rounding
// included) of the exact e^(x-max); the float64 sum adds about as much
// relative error as one exp (a weighted mean of their errors), and 1/sum and
// the final product are rounded to float32 (half an ulp each): about 3 ulp,
// 3.6e-7, in all. rowSoftmaxRel = 1e-6 leaves room; the absolute part covers
// AVX2 giving 0 below e^-87.33 (FLT_MIN) instead of a denormal.
//
// Log-softmax: x - max - log(sum) in float64 as the reference; only log(sum)
// differs, by the sum's relative error (about 1.2e-7 absolute), so the result
// is within that plus one float32 rounding of the reference.
//
// Layer norm: the same float64 operations, only the order of the two sums
// differs: the float32 results agree to within one ulp (a rounding tie).
const (
	rowSoftmaxRel    = 1e-6
	rowSoftmaxAbs    = 1e-37
	rowLogSoftmaxAbs = 3e-7
	rowLogSoftmaxRel = 1.2e-7 // one float32 rounding
)

// rowShapes are the row lengths tried: every tail of both vector widths,
// and long rows.
func rowShapes() [][2]int {
	var s [][2]int
	for c := 1; c <= 67; c++ {
		s = append(s, [2]int{1 + c%4, c})
	}
	return append(s, [2]int{3, 1000}, [2]int{2, 50000}, [2]int{300, 77}, [2]int{64, 1024}, [2]int{1, 1 << 17})
}

// rowInput fills rows of length cols: N(0,1)·scale with scale varying by
// row (up to 1e4, so exps underflow), and special rows: some -Inf, all -Inf,
// a NaN, a +Inf, huge magnitudes.
func rowInput(r *rand.Rand, rows, cols int, specials bool) []float32 {
	src := make([]float32, rows*cols)
	scales := []float64{1, 0.01, 10, 100, 1e4}
	for i := 0; i < rows; i++ {
		row := src[i*cols : (i+1)*cols]
		sc := scales[r.IntN(len(scales))]
		off := r.NormFloat64() * 10
		for j := range row {
			row[j] = float32(off + r.NormFloat64()*sc)
		}
		if !specials {
			continue
		}
		switch r.IntN(8) {
		case 0: // some -Inf
			for k := 0; k < 1+cols/4; k++ {
				row[r.IntN(cols)] = float32(math.Inf(-1))
			}
		case 1:
			for j := range row {
				row[j] = float32(math.Inf(-1))
			}
		case 2:
			row[r.IntN(cols)] = float32(math.NaN())
		case 3:
			row[r.IntN(cols)] = float32(math.Inf(1))
		case 4: // huge magnitudes: differences overflow float32
			for j := range row {
				row[j] = float32((r.Float64()*2 - 1) * math.MaxFloat32)
			}
		}
	}
	return src
}

// rowVariants returns the row kernels of every variant.
func rowVariants(t testing.TB) map[string][3]any {
	out := map[string][3]any{}
	prev := ActiveVariant()
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		out[name] = [3]any{SoftmaxRows, LogSoftmaxRows, LayerNormRows}
	}
	if err := UseVariant(prev); err != nil {
		t.Fatal(err)
	}
	return out
}

type rowFunc = func(rows, cols int, dst, src []float32)

func checkClose(t *testing.T, what string, got, want []float32, rel, abs float64, worst *float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) || math.IsInf(w, 0) || w == 0 && abs == 0 {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
			}
			continue
		}
		d := math.Abs(g - w)
		if d > rel*math.Abs(w)+abs || math.IsNaN(g) {
			t.Fatalf("%s: element %d = %v, want %v (difference %.3g)", what, i, got[i], want[i], d)
		}
		if e := d / (math.Abs(w) + abs/rel); e > *worst {
			*worst = e
		}
	}
}

func testSoftmaxLike(t *testing.T, log bool) {
	r := rand.New(rand.NewPCG(51, 52))
	ref, idx, rel, abs := SoftmaxRowsRef, 0, rowSoftmaxRel, rowSoftmaxAbs
	if log {
		ref, idx, rel, abs = LogSoftmaxRowsRef, 1, rowLogSoftmaxRel, rowLogSoftmaxAbs
	}
	for name, ks := range rowVariants(t) {
		f := ks[idx].(rowFunc)
		var worst float64
		for _, sh := range rowShapes() {
			rows, cols := sh[0], sh[1]
			for _, specials := range []bool{false, true} {
				src := rowInput(r, rows, cols, specials)
				want := make([]float32, len(src))
				ref(rows, cols, want, src)
				got := make([]float32, len(src))
				f(rows, cols, got, src)
				what := fmt.Sprintf("%s shape %v specials %v", name, sh, specials)
				checkClose(t, what, got, want, rel, abs, &worst)
				// In place: dst aliasing src.
				f(rows, cols, src, src)
				checkClose(t, what+" in place", src, want, rel, abs, &worst)
			}
		}
		t.Logf("%s: largest error %.3g (relative, with the absolute part as floor)", name, worst)
	}
}

func TestSoftmaxRowsVariants(t *testing.T)    { testSoftmaxLike(t, false) }
func TestLogSoftmaxRowsVariants(t *testing.T) { testSoftmaxLike(t, true) }

type layerNormFunc = func(rows, cols int, eps float32, dst, src, weight, bias, mean, rstd []float32)

// ulpClose: equal, or one float32 ulp apart (a float64 rounding tie).
func ulpClose(a, b float32) bool {
	return sameBits(a, b) || math.Nextafter32(b, a) == a
}

func TestLayerNormRowsVariants(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	for name, ks := range rowVariants(t) {
		f := ks[2].(layerNormFunc)
		for _, sh := range rowShapes() {
			rows, cols := sh[0], sh[1]
			for _, specials := range []bool{false, true} {
				for affine := 0; affine < 4; affine++ {
					src := rowInput(r, rows, cols, specials)
					var w, b []float32
					if affine&1 != 0 {
						w = rowInput(r, 1, cols, false)
					}
					if affine&2 != 0 {
						b = rowInput(r, 1, cols, false)
					}
					eps := float32(1e-5)
					n := len(src)
					want, wm, wr := make([]float32, n), make([]float32, rows), make([]float32, rows)
					LayerNormRowsRef(rows, cols, eps, want, src, w, b, wm, wr)
					got, gm, gr := make([]float32, n), make([]float32, rows), make([]float32, rows)
					what := fmt.Sprintf("%s shape %v specials %v affine %d", name, sh, specials, affine)
					for pass := 0; pass < 2; pass++ {
						if pass == 1 { // in place
							got = src
							what += " in place"
						}
						f(rows, cols, eps, got, src, w, b, gm, gr)
						for i := range want {
							if !ulpClose(got[i], want[i]) {
								t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
							}
						}
						for i := range wm {
							if !ulpClose(gm[i], wm[i]) || !ulpClose(gr[i], wr[i]) {
								t.Fatalf("%s: row %d mean, rstd = %v, %v, want %v, %v", what, i, gm[i], gr[i], wm[i], wr[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestRowKernelsDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	for name, ks := range rowVariants(t) {
		if name == VariantGeneric {
			continue // the references allocate
		}
		for _, sh := range [][2]int{{64 * 77, 77}, {3, 50000}, {8, 1024}} {
			rows, cols := sh[0], sh[1]
			src := rowInput(r, rows, cols, false)
			dst := make([]float32, len(src))
			w, b := rowInput(r, 1, cols, false), rowInput(r, 1, cols, false)
			mean, rstd := make([]float32, rows), make([]float32, rows)
			sm, lsm, ln := ks[0].(rowFunc), ks[1].(rowFunc), ks[2].(layerNormFunc)
			for op, fn := range []func(){
				func() { sm(rows, cols, dst, src) },
				func() { lsm(rows, cols, dst, src) },
				func() { ln(rows, cols, 1e-5, dst, src, w, b, mean, rstd) },
			} {
				fn() // warm the pools and workers
				if a := testing.AllocsPerRun(20, fn); a != 0 {
					t.Errorf("%s op %d shape %v: %v allocs per call", name, op, sh, a)
				}
			}
		}
	}
}

// rowBenchShapes: CLIP-like layer widths and attention rows (batch 64,
// 77 tokens: 64·77 rows of 77).
var rowBenchShapes = []struct {
	name       string
	rows, cols int
}{{"4096x1024", 4096, 1024}, {"64x77x77", 64 * 77, 77}}

// benchRows runs f per variant (generic is the reference) and reports the
// bytes read and written per second, one read and one write per element.
func benchRows(b *testing.B, op int) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, sh := range rowBenchShapes {
		src := rowInput(r, sh.rows, sh.cols, false)
		dst := make([]float32, len(src))
		w, bias := rowInput(r, 1, sh.cols, false), rowInput(r, 1, sh.cols, false)
		mean, rstd := make([]float32, sh.rows), make([]float32, sh.rows)
		for _, name := range Variants() {
			ks := rowVariants(b)[name]
			b.Run(sh.name+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					switch op {
					case 0, 1:
						ks[op].(rowFunc)(sh.rows, sh.cols, dst, src)
					case 2:
						ks[2].(layerNormFunc)(sh.rows, sh.cols, 1e-5, dst, src, w, bias, mean, rstd)
					}
				}
				b.ReportMetric(8*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

func BenchmarkSoftmaxRows(b *testing.B)    { benchRows(b, 0) }
func BenchmarkLogSoftmaxRows(b *testing.B) { benchRows(b, 1) }
func BenchmarkLayerNormRows(b *testing.B)  { benchRows(b, 2) }
