package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Every variant's Adam and EMA updates give the reference's bits, with and
// without cleaning, on data with NaN, ±Inf, zeros of both signs, subnormals
// and the float32 extremes, for lengths with and without a vector tail.
func TestAdamAndEMAVariantsMatchRefBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 7, 8, 9, 31, 64, 1000, 4099} {
			for _, c := range []AdamCoefs{
				NewAdamCoefs(0.0025, 0, 0.99, 1e-8, 1, 1, 0),
				NewAdamCoefs(2e-3, 0.9, 0.999, 1e-8, 7, 16, 1e5),
				{GradScale: 0.3, InfTo: 3, B1: 0.5, B2: 0.75, C1: 0.5, C2: 0.25, StepSize: 1.5, SqrtBC2: 0.5, Eps: 1e-3},
			} {
				g := specialSlice(r, n)
				m, v := randSlice(r, n), randSlice(r, n)
				for i := range v {
					v[i] = v[i] * v[i] // second moments are not negative
				}
				w := specialSlice(r, n)
				wGot, mGot, vGot := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
				AdamUpdate(wGot, g, mGot, vGot, c)
				AdamUpdateRef(w, g, m, v, c)
				what := fmt.Sprintf("%s n %d coefs %+v", name, n, c)
				compareRows(t, what+": m", mGot, m)
				compareRows(t, what+": v", vGot, v)
				compareRows(t, what+": w", wGot, w)
			}
			avg, src := specialSlice(r, n), specialSlice(r, n)
			got := append([]float32(nil), avg...)
			EMAUpdate(got, src, 0.9965)
			EMAUpdateRef(avg, src, 0.9965)
			compareRows(t, fmt.Sprintf("%s n %d: EMA", name, n), got, avg)
		}
	}
}

// The reference follows the formula written out in float64, up to the
// float32 roundings it keeps, and cleans as documented.
func TestAdamUpdateRefFollowsTheFormula(t *testing.T) {
	c := NewAdamCoefs(0.01, 0.9, 0.99, 1e-8, 1, 2, 100)
	g := []float32{0.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	w, m, v := []float32{1, 1, 1, 1}, make([]float32, 4), make([]float32, 4)
	AdamUpdateRef(w, g, m, v, c)
	for i, gi := range []float64{1, 0, 100, -100} { // scaled by 2, then cleaned
		mi := 0.1 * gi
		vi := 0.01 * gi * gi
		wi := 1 - 0.1*mi/(math.Sqrt(vi)/math.Sqrt(0.01)+1e-8)
		if math.Abs(float64(m[i])-mi) > 1e-6*math.Max(1, math.Abs(mi)) || math.Abs(float64(v[i])-vi) > 1e-6*math.Max(1, vi) ||
			math.Abs(float64(w[i])-wi) > 1e-6 {
			t.Errorf("element %d (g %v): m %v v %v w %v, want %v %v %v", i, g[i], m[i], v[i], w[i], mi, vi, wi)
		}
	}
}

func BenchmarkAdamUpdateVariants(b *testing.B) {
	r := rand.New(rand.NewPCG(23, 24))
	const n = 1 << 16
	w, g, m, v := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
	for i := range v {
		v[i] *= v[i]
	}
	c := NewAdamCoefs(2e-3, 0.9, 0.999, 1e-8, 100, 1, 1e5)
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, name := range Variants() {
		b.Run(name, func(b *testing.B) {
			if err := UseVariant(name); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(4 * 4 * n)
			for b.Loop() {
				AdamUpdate(w, g, m, v, c)
			}
		})
	}
}
