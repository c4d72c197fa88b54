package cpu

import (
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
	prev := ActiveVariant()
	defer UseVariant(prev)
	cases := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1},
		{m: 15, n: 33, k: 7, alpha: 1, beta: 1, transB: true},
		{m: 400, n: 100, k: 96, alpha: 0.5, beta: 0, transB: true, aPad: 2, bPad: 3, cPad: 1},
		{m: 50, n: 70, k: 1030, alpha: -1, beta: -0.75, transA: true},
		{m: 29, n: 2100, k: 600, alpha: 1, beta: 0, transB: true},
		{m: 3, n: 16, k: 0, alpha: 1, beta: 0.5},
	}
	for _, name := range Variants() {
		if err := UseVariant(name); err != nil {
			t.Fatal(err)
		}
		for _, gc := range cases {
			checkGemm(t, name+"/packed", packedGemm, gc, r)
		}
	}
	// Packed for one variant, it refuses another rather than misread it.
	if len(Variants()) > 1 {
		UseVariant(Variants()[0])
		pb := PackB(4, 4, make([]float32, 16), 0, 4, 1)
		UseVariant(Variants()[1])
		if pb.Current() {
			t.Fatal("a B packed for another variant reports itself current")
		}
		defer func() {
			if recover() == nil {
				t.Error("Gemm with a B packed for another variant did not panic")
			}
		}()
		pb.Gemm(4, 1, make([]float32, 16), 0, 4, 1, 0, make([]float32, 16), 0, 4)
	}
}
