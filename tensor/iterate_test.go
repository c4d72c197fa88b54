package tensor

import "testing"

// Broadcast rows (stride 0 in the innermost dimension after coalescing) take
// the fill path; every element must still be the broadcast value.
func TestContiguousOfBroadcasts(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 1000, 4099} {
		x := FromSlice([]float32{2.5}, 1, 1).Expand(3, n)
		got := x.Contiguous().ToSlice()
		if len(got) != 3*n {
			t.Fatalf("n %d: %d elements", n, len(got))
		}
		for i, v := range got {
			if v != 2.5 {
				t.Fatalf("n %d: element %d = %v", n, i, v)
			}
		}
	}
	// A column broadcast along rows: each row repeats its own value.
	col := FromSlice([]float32{1, 2, 3}, 3, 1).Expand(3, 5).Contiguous().ToSlice()
	for i, v := range col {
		if want := float32(i/5 + 1); v != want {
			t.Fatalf("column broadcast: element %d = %v, want %v", i, v, want)
		}
	}
}

// Views large enough for the workers to split the copy (a weight's
// transpose, a strided slice, a broadcast, an offset narrow): every element
// lands where the element-by-element walk puts it.
func TestContiguousOfLargeViews(t *testing.T) {
	rng := NewRNG(31)
	w := rng.Normal(96, 80, 3, 3)
	big := rng.Normal(3, 70, 700)
	views := map[string]*Tensor{
		"weight transposed": w.Transpose(0, 1),
		"strided":           strided(rng.Normal(300, 257)),
		"reversed":          transposedLayout(rng.Normal(40, 50, 41)),
		"broadcast":         rng.Normal(1, 90, 1).Expand(7, 90, 130),
		"narrowed":          big.Narrow(2, 3, 650).Narrow(1, 1, 66),
		// blocks of copySwapped that end short, read from an offset
		"swapped, offset": rng.Normal(70, 53, 25).Narrow(2, 2, 20).Transpose(0, 1),
	}
	// The two swapped layouts take the blocked path, the others do not.
	for name, v := range views {
		swapped := name == "weight transposed" || name == "swapped, offset"
		if got := copySwapped(make([]float32, v.Numel()), v); got != swapped {
			t.Errorf("%s: copySwapped took it: %v, want %v", name, got, swapped)
		}
	}
	for name, v := range views {
		if v.Numel() < parallelCopyElems {
			t.Fatalf("%s: %d elements, under the parallel copy's %d", name, v.Numel(), parallelCopyElems)
		}
		got := v.Contiguous()
		shape := v.Shape()
		idx := make([]int, len(shape))
		for i, g := range got.ToSlice() {
			rest := i
			for d := len(shape) - 1; d >= 0; d-- {
				idx[d] = rest % shape[d]
				rest /= shape[d]
			}
			if want := v.At(idx...); g != want {
				t.Fatalf("%s at %v: %v, want %v", name, idx, g, want)
			}
		}
	}
}

// BenchmarkContiguousWeightTranspose: the copy a transposed convolution
// makes of its weight (512x512x3x3, rows of 9).
func BenchmarkContiguousWeightTranspose(b *testing.B) {
	w := NewRNG(1).Normal(512, 512, 3, 3).Transpose(0, 1)
	for b.Loop() {
		w.Contiguous().Release()
	}
}
