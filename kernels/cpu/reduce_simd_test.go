package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestReduceRowsVariantsAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	prev := ActiveVariant()
	defer UseVariant(prev)
	shapes := [][2]int{{1, 0}, {3, 1}, {2, 31}, {5, 32}, {4, 33}, {7, 1000}, {1, 3*sumChunk + 17}, {3, sumChunk + 1}, {600, 70}}
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			rows, cols := sh[0], sh[1]
			src := randSlice(r, rows*cols)
			if rows > 2 && cols > 0 { // non-finite values must propagate as in the reference
				src[cols+cols/2] = float32(math.Inf(1))
				src[2*cols] = float32(math.NaN())
			}
			for _, op := range []ReduceOp{ReduceSum, ReduceMax, ReduceArgmin} {
				got, want := make([]float32, rows), make([]float32, rows)
				ReduceRows(op, rows, cols, got, src)
				ReduceRowsRef(op, rows, cols, want, src)
				for i := range want {
					what := fmt.Sprintf("%s op %d shape %v row %d", name, op, sh, i)
					if op != ReduceSum || math.IsNaN(float64(want[i])) || math.IsInf(float64(want[i]), 0) {
						if !sameBits(got[i], want[i]) {
							t.Fatalf("%s: %v, want %v", what, got[i], want[i])
						}
						continue
					}
					// Both sums are float64: they may differ by float64
					// rounding, i.e. by at most one float32 ulp after rounding.
					var mag float64
					for _, v := range src[i*cols : (i+1)*cols] {
						mag += math.Abs(float64(v))
					}
					ulp := math.Abs(float64(math.Nextafter32(want[i], float32(math.Inf(1))) - want[i]))
					if d := math.Abs(float64(got[i] - want[i])); d > ulp+1e-12*mag {
						t.Fatalf("%s: %v, want %v", what, got[i], want[i])
					}
				}
			}
		}
	}
}

func BenchmarkReduceSum(b *testing.B) {
	r := rand.New(rand.NewPCG(43, 44))
	src := randSlice(r, 1<<23)
	dst := make([]float32, 1)
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, name := range Variants() {
		UseVariant(name)
		f := ReduceRows
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f(ReduceSum, 1, len(src), dst, src)
			}
			b.ReportMetric(4*float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
