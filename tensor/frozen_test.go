package tensor

import "testing"

// TestFrozenMatmul: a product with a frozen right operand (a linear layer's
// weight, transposed) gives what the unfrozen one gives, and the package's
// writes to the weight (CopyFrom, AdamStep, EMAUpdate) are seen by the next
// product rather than a stale packed copy.
func TestFrozenMatmul(t *testing.T) {
	rng := NewRNG(3)
	x := rng.Normal(37, 70)
	w := rng.Normal(45, 70) // [out, in]
	want := MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice()
	w.Freeze()
	if !w.Frozen() {
		t.Fatal("Freeze did not freeze")
	}
	same := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
			}
		}
	}
	for i := 0; i < 2; i++ { // packing, then the packed copy
		same("frozen", MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice(), want)
	}
	// The same storage read as another view packs that view.
	wantRows := MatmulScaled(x.Narrow(1, 0, 45), w.Narrow(1, 0, 45).Clone(), 1).ToSlice()
	same("another view", MatmulScaled(x.Narrow(1, 0, 45), w.Narrow(1, 0, 45), 1).ToSlice(), wantRows)

	w2 := rng.Normal(45, 70)
	w.CopyFrom(w2)
	same("after CopyFrom", MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice(), MatmulScaled(x, w2.Transpose(0, 1), 0.5).ToSlice())

	AdamStep(w, rng.Normal(45, 70), Zeros(45, 70), Zeros(45, 70), AdamParams{LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, Step: 1})
	same("after AdamStep", MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice(), MatmulScaled(x, w.Clone().Transpose(0, 1), 0.5).ToSlice())

	EMAUpdate(w, w2, 0.5)
	same("after EMAUpdate", MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice(), MatmulScaled(x, w.Clone().Transpose(0, 1), 0.5).ToSlice())

	w.Thaw()
	if w.Frozen() {
		t.Fatal("Thaw did not thaw")
	}
	w.Data()[0] += 1 // allowed once thawed
	same("thawed", MatmulScaled(x, w.Transpose(0, 1), 0.5).ToSlice(), MatmulScaled(x, w.Clone().Transpose(0, 1), 0.5).ToSlice())
}
