package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// forEachIndex calls f with every multi-index of shape in row-major order.
func forEachIndex(shape []int, f func(idx []int)) {
	if numel(shape) == 0 {
		return
	}
	idx := make([]int, len(shape))
	for {
		f(idx)
		d := len(shape) - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// strided returns a non-contiguous view holding x's values (every other
// element of a wider buffer).
func strided(x *Tensor) *Tensor {
	w := Full(float32(math.NaN()), append(x.Shape(), 2)...)
	v := w.Select(-1, 1)
	v.CopyFrom(x)
	return v
}

// transposedLayout returns a view holding x's values stored in reversed
// dimension order.
func transposedLayout(x *Tensor) *Tensor {
	n := x.Dim()
	rev := make([]int, n)
	for i := range rev {
		rev[i] = n - 1 - i
	}
	return x.Permute(rev...).Contiguous().Permute(InversePermutation(rev)...)
}

// layouts gives the same values as x in three memory layouts.
func layouts(x *Tensor) map[string]*Tensor {
	return map[string]*Tensor{"contiguous": x, "strided": strided(x), "transposed": transposedLayout(x)}
}

func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one mentioning %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q does not mention %q", msg, want)
		}
	}()
	f()
}

func dot64T(a, b *Tensor) float64 {
	as, bs := a.ToSlice(), b.ToSlice()
	var s float64
	for i := range as {
		s += float64(as[i]) * float64(bs[i])
	}
	return s
}

// checkAdjoint verifies <A x, y> = <x, Aᵀ y> in float64 to a relative 1e-5.
func checkAdjoint(t *testing.T, what string, ax, y, x, aty *Tensor) {
	t.Helper()
	l, r := dot64T(ax, y), dot64T(x, aty)
	if math.Abs(l-r) > 1e-5*(math.Abs(l)+math.Abs(r))+1e-5 {
		t.Fatalf("%s: <Ax,y> = %.8g but <x,Aᵀy> = %.8g", what, l, r)
	}
}
