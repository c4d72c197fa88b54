package tensor

import "testing"

// naivePad reads out[i] = x[i - before] (or value) index by index.
func naivePad(x *Tensor, pads []int, value float32) ([]int, []float32) {
	nd := x.Dim()
	shape, before := x.Shape(), make([]int, nd)
	for p := 0; p < len(pads)/2; p++ {
		before[nd-1-p] = pads[2*p]
		shape[nd-1-p] += pads[2*p] + pads[2*p+1]
	}
	var vals []float32
	forEachIndex(shape, func(i []int) {
		src := make([]int, nd)
		inside := true
		for d := range i {
			src[d] = i[d] - before[d]
			inside = inside && src[d] >= 0 && src[d] < x.Size(d)
		}
		if inside {
			vals = append(vals, x.At(src...))
		} else {
			vals = append(vals, value)
		}
	})
	return shape, vals
}

func TestPadMatchesNaive(t *testing.T) {
	x := NewRNG(3).Normal(3, 5, 6)
	cases := [][]int{
		{},
		{1, 2},
		{2, -1, -1, 3},
		{-1, -1, -2, 0, 1, 1},
		{0, 0, 0, 0, 0, 0},
		{-6, 0}, // crops the last dim to nothing
		{9, -9}, // shifts every element out: all padding
		{-2, 4, 1, -3},
	}
	for _, pads := range cases {
		for name, xl := range layouts(x) {
			got := Pad(xl, pads, -7.5)
			shape, want := naivePad(x, pads, -7.5)
			if !SameShape(got.Shape(), shape) {
				t.Fatalf("pads %v %s: shape %v, want %v", pads, name, got.Shape(), shape)
			}
			equalSlices(t, "pad", got.ToSlice(), want)
		}
	}
}

func TestPadAdjoint(t *testing.T) {
	rng := NewRNG(4)
	x := rng.Normal(2, 4, 5)
	for _, pads := range [][]int{{1, 2}, {2, -1, -1, 3}, {-1, -2, 0, 1, 1, 0}} {
		ax := Pad(x, pads, 0)
		y := rng.Normal(ax.Shape()...)
		checkAdjoint(t, "pad", ax, y, x, PadAdjoint(y, pads))
	}
}

func TestPadErrorsNameArguments(t *testing.T) {
	expectPanic(t, "pads", func() { Pad(Zeros(2, 3), []int{1}, 0) })
	expectPanic(t, "pads", func() { Pad(Zeros(3), []int{1, 1, 1, 1}, 0) })
	expectPanic(t, "pads", func() { Pad(Zeros(2, 3), []int{-2, -2}, 0) })
}

func TestFlipMatchesNaive(t *testing.T) {
	x := NewRNG(5).Normal(3, 4, 5)
	for _, dims := range [][]int{{0}, {2}, {-1}, {0, 2}, {2, 0, 1}} {
		for name, xl := range layouts(x) {
			out := Flip(xl, dims...)
			flipped := make([]bool, 3)
			for _, d := range dims {
				flipped[NormDim(d, 3)] = true
			}
			forEachIndex(x.Shape(), func(i []int) {
				src := append([]int(nil), i...)
				for d := range src {
					if flipped[d] {
						src[d] = x.Size(d) - 1 - i[d]
					}
				}
				if got, want := out.At(i...), x.At(src...); got != want {
					t.Fatalf("flip %v %s: out%v = %v, want %v", dims, name, i, got, want)
				}
			})
			if !out.IsContiguous() {
				t.Fatal("flip must return a contiguous tensor")
			}
		}
	}
	equalSlices(t, "flip none", Flip(x).ToSlice(), x.ToSlice())
	expectPanic(t, "repeated", func() { Flip(x, 1, -2) })
}
