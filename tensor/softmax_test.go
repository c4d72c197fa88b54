package tensor

import (
	"math"
	"testing"
)

// fibers lists, for every position of the other dims, the row-major indices of
// the elements along dim.
func fibers(shape []int, dim int) [][]int {
	strides := contiguousStrides(shape)
	var out [][]int
	for base := 0; base < numel(shape); base++ {
		if (base/strides[dim])%shape[dim] != 0 {
			continue // not the first element of its fiber
		}
		f := make([]int, shape[dim])
		for i := range f {
			f[i] = base + i*strides[dim]
		}
		out = append(out, f)
	}
	return out
}

// naiveSoftmax evaluates softmax (or log_softmax) along dim in float64 without
// max subtraction: fine for the moderate inputs it is used with.
func naiveSoftmax(x []float32, shape []int, dim int, logOut bool) []float64 {
	out := make([]float64, len(x))
	for _, f := range fibers(shape, dim) {
		var s float64
		for _, i := range f {
			s += math.Exp(float64(x[i]))
		}
		for _, i := range f {
			if logOut {
				out[i] = float64(x[i]) - math.Log(s)
			} else {
				out[i] = math.Exp(float64(x[i])) / s
			}
		}
	}
	return out
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestSoftmaxMatchesNaiveAlongEveryDim(t *testing.T) {
	shape := []int{3, 4, 5}
	x := MulScalar(NewRNG(3).Normal(shape...), 3)
	xs := x.ToSlice()
	for dim := -1; dim < 3; dim++ {
		d := normDim(dim, 3)
		y := Softmax(x, dim)
		if !y.IsContiguous() || !SameShape(y.Shape(), shape) {
			t.Fatalf("dim %d: result shape %v contiguous %v", dim, y.Shape(), y.IsContiguous())
		}
		closeTo(t, "softmax", y.ToSlice(), naiveSoftmax(xs, shape, d, false), 1e-6)
		closeTo(t, "log_softmax", LogSoftmax(x, dim).ToSlice(), naiveSoftmax(xs, shape, d, true), 1e-6)
	}
	// Enough rows to be split across goroutines.
	big := NewRNG(4).Normal(300, 70)
	closeTo(t, "softmax of many rows", Softmax(big, 1).ToSlice(), naiveSoftmax(big.ToSlice(), big.Shape(), 1, false), 1e-6)
	// A non-contiguous input is read through its strides.
	xt := x.Transpose(0, 2)
	want := naiveSoftmax(xt.ToSlice(), xt.Shape(), 1, false)
	closeTo(t, "softmax of a transposed view", Softmax(xt, 1).ToSlice(), want, 1e-6)
}

func TestSoftmaxOfLargeAndInfiniteValues(t *testing.T) {
	x := New([]float32{1e4, 1e4 - 1, -1e4, 3e4, 0, -3e4}, 2, 3)
	y := Softmax(x, -1).ToSlice()
	e := 1 / (1 + math.Exp(-1))
	closeTo(t, "softmax of 1e4", y, []float64{e, 1 - e, 0, 1, 0, 0}, 1e-6)
	ly := LogSoftmax(x, -1).ToSlice()
	for i, v := range ly {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("log_softmax[%d] = %v, want finite", i, v)
		}
	}
	if math.Abs(float64(ly[0])-math.Log(e)) > 1e-6 || ly[3] != 0 || ly[5] != -6e4 {
		t.Fatalf("log_softmax of large values = %v", ly)
	}
	// -Inf (a masked entry) contributes exactly zero.
	inf := float32(math.Inf(-1))
	m := Softmax(New([]float32{0.5, inf, 0.5, inf}, 4), 0).ToSlice()
	equalSlices(t, "masked softmax", m, []float32{0.5, 0, 0.5, 0})
	if l := LogSoftmax(New([]float32{0, inf}, 2), 0).ToSlice(); l[0] != 0 || !math.IsInf(float64(l[1]), -1) {
		t.Fatalf("masked log_softmax = %v", l)
	}
}

func TestSoftmaxRejectsBadDims(t *testing.T) {
	expectPanic(t, "out of range", func() { Softmax(Ones(2, 3), 2) })
	expectPanic(t, "0-d", func() { Softmax(Scalar(1), 0) })
}
