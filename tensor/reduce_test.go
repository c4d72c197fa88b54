package tensor

import (
	"fmt"
	"math"
	"testing"
)

// TestSumEveryAxisSet: Sum over every set of axes of a 4-d tensor (with a
// size-1 axis among them), in every layout, equals a float64 sum taken
// element by element; in-place and transposing paths both get exercised.
func TestSumEveryAxisSet(t *testing.T) {
	shape := []int{3, 5, 1, 7}
	x := NewRNG(9).Normal(shape...)
	for mask := 0; mask < 1<<len(shape); mask++ {
		var dims []int
		for d := range shape {
			if mask>>d&1 == 1 {
				dims = append(dims, d)
			}
		}
		if len(dims) == 0 {
			continue // Sum treats no axes as all of them
		}
		kept := append([]int(nil), shape...)
		for _, d := range dims {
			kept[d] = 1
		}
		want := make([]float64, numel(kept))
		forEachIndex(shape, func(idx []int) {
			o := 0
			for d, i := range idx {
				if kept[d] > 1 {
					o = o*kept[d] + i
				}
			}
			want[o] += float64(x.At(idx...))
		})
		for name, v := range layouts(x) {
			got := Sum(v, dims, true)
			if !SameShape(got.Shape(), kept) {
				t.Fatalf("%s dims %v: shape %v, want %v", name, dims, got.Shape(), kept)
			}
			for i, g := range got.ToSlice() {
				if math.Abs(float64(g)-want[i]) > 1e-6*(1+math.Abs(want[i])) {
					t.Fatalf("%s dims %v output %d: %v, want %v", name, dims, i, g, want[i])
				}
			}
		}
	}
}

// TestSumAxesLayouts: which reductions of a contiguous tensor are read in
// place, and as what.
func TestSumAxesLayouts(t *testing.T) {
	cases := []struct {
		shape []int
		dims  []int
		want  string
	}{
		{[]int{4, 512, 64, 64}, []int{0, 2, 3}, "4 512 4096 false true"}, // bias gradient
		{[]int{4, 512, 64, 64}, []int{1}, "4 512 4096 true true"},        // over channels
		{[]int{4, 1, 1, 512, 4, 4}, []int{0}, "4 8192 1 false true"},     // batch of a flat layer
		{[]int{4, 512, 8, 8}, []int{2, 3}, "0 0 0 false false"},          // innermost: rows already
		{[]int{2, 3, 4, 5}, []int{1, 3}, "0 0 0 false false"},            // interleaved: copy
		{[]int{4, 1}, []int{0}, "0 0 0 false false"},                     // all of it, in fact
	}
	for _, c := range cases {
		red := map[int]bool{}
		for _, d := range c.dims {
			red[d] = true
		}
		outer, mid, inner, midSummed, ok := sumAxes(c.shape, red)
		if got := fmt.Sprint(outer, mid, inner, midSummed, ok); got != c.want {
			t.Errorf("%v over %v: %s, want %s", c.shape, c.dims, got, c.want)
		}
	}
}
