package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// packedGemm is a gemmFunc that packs B first, so checkGemm can hold
// PackedB to GemmRef.
func packedGemm(m, n, k int, alpha float32, a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int, beta float32, c []float32, cOff, ldc int) {
	PackB(k, n, b, bOff, bRow, bCol).Gemm(m, alpha, a, aOff, aRow, aCol, beta, c, cOff, ldc)
}

// TestPackedBAgainstRef: products with a prepacked B equal GemmRef's on
// every variant, across panel edges (n not a multiple of nr), several kc
// blocks (k above 512 and 1024), both layouts of B, alpha and beta.
func TestPackedBAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1},
		{m: 15, n: 33, k: 7, alpha: 1, beta: 1, transB: true},
		{m: 400, n: 100, k: 96, alpha: 0.5, beta: 0, transB: true, aPad: 2, bPad: 3, cPad: 1},
		{m: 50, n: 70, k: 1030, alpha: -1, beta: -0.75, transA: true},
		{m: 29, n: 2100, k: 600, alpha: 1, beta: 0, transB: true},
		{m: 3, n: 16, k: 0, alpha: 1, beta: 0.5},
	}
	checkPrepacked(t, "B", packedGemm, cases, r,
		func() packedOperand { return PackB(4, 4, make([]float32, 16), 0, 4, 1) },
		func(p packedOperand) {
			p.(*PackedB).Gemm(4, 1, make([]float32, 16), 0, 4, 1, 0, make([]float32, 16), 0, 4)
		})
}

// packedOperand is PackedA or PackedB.
type packedOperand interface{ Current() bool }

// checkPrepacked holds f, a product with one operand packed first, to
// GemmRef on every variant, and checks that an operand packed for one
// variant (pack) refuses another (multiply panics) rather than misread it.
func checkPrepacked(t *testing.T, operand string, f gemmFunc, cases []gemmCase, r *rand.Rand,
	pack func() packedOperand, multiply func(packedOperand)) {
	t.Helper()
	prev := ActiveVariant()
	defer UseVariant(prev)
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, gc := range cases {
			checkGemm(t, name+"/packed "+operand, f, gc, r)
		}
	}
	if len(Variants()) < 2 {
		return
	}
	UseVariant(Variants()[0])
	p := pack()
	UseVariant(Variants()[1])
	if p.Current() {
		t.Fatalf("%s packed for another variant reports itself current", operand)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Gemm with %s packed for another variant did not panic", operand)
		}
	}()
	multiply(p)
}

// packedAGemm is a gemmFunc that packs A first, so checkGemm can hold
// PackedA to GemmRef.
func packedAGemm(m, n, k int, alpha float32, a []float32, aOff, aRow, aCol int,
	b []float32, bOff, bRow, bCol int, beta float32, c []float32, cOff, ldc int) {
	PackA(m, k, a, aOff, aRow, aCol).Gemm(n, alpha, b, bOff, bRow, bCol, beta, c, cOff, ldc)
}

// TestPackedAAgainstRef: products with a prepacked A equal GemmRef's on
// every variant, across row-panel edges (m not a multiple of mr), several
// kc blocks, row blocks split between workers, both layouts of A, B read in
// place and packed, alpha and beta.
func TestPackedAAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1},
		{m: 15, n: 33, k: 7, alpha: 1, beta: 1, transA: true},
		{m: 400, n: 100, k: 96, alpha: 0.5, beta: 0, transB: true, aPad: 2, bPad: 3, cPad: 1},
		{m: 50, n: 70, k: 1030, alpha: -1, beta: -0.75, transA: true},
		{m: 29, n: 2100, k: 600, alpha: 1, beta: 0},
		{m: 100, n: 48, k: 288, alpha: 1, beta: 0}, // B in place on AVX2
		{m: 3, n: 16, k: 0, alpha: 1, beta: 0.5},
	}
	checkPrepacked(t, "A", packedAGemm, cases, r,
		func() packedOperand { return PackA(4, 4, make([]float32, 16), 0, 4, 1) },
		func(p packedOperand) {
			p.(*PackedA).Gemm(4, 1, make([]float32, 16), 0, 4, 1, 0, make([]float32, 16), 0, 4)
		})
}

// TestPackedAKeepsBits: a prepacked A only skips the copy, so its products
// are Gemm's bit for bit (the Winograd convolutions share one packing of
// each transformed weight plane between sample chunks and must not change
// a trained model's arithmetic).
func TestPackedAKeepsBits(t *testing.T) {
	prev := ActiveVariant()
	defer UseVariant(prev)
	r := rand.New(rand.NewPCG(9, 10))
	shapes := []struct{ m, n, k int }{{512, 300, 520}, {7, 1000, 64}, {97, 33, 1100}}
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, s := range shapes {
			a, b := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
			want, got := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
			// A read down its columns, as the Winograd GEMMs read U.
			Gemm(s.m, s.n, s.k, 1, a, 0, 1, s.m, b, 0, s.n, 1, 0, want, 0, s.n)
			PackA(s.m, s.k, a, 0, 1, s.m).Gemm(s.n, 1, b, 0, s.n, 1, 0, got, 0, s.n)
			assertSameBits(t, fmt.Sprintf("%s %v with A prepacked", name, s), got, want)
		}
	}
}
