package tensor

import "fmt"

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func cloneInts(s []int) []int { return append([]int(nil), s...) }

func checkShape(shape []int) {
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
	}
}

// contiguousDims is a copy of shape and its contiguous strides, in one
// allocation (a tensor's shape and strides live as long as it does).
func contiguousDims(shape []int) (sh, st []int) {
	n := len(shape)
	buf := make([]int, 2*n)
	sh, st = buf[:n:n], buf[n:]
	copy(sh, shape)
	fillContiguousStrides(st, shape)
	return sh, st
}

func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	fillContiguousStrides(st, shape)
	return st
}

// fillContiguousStrides sets st to the row-major strides of shape.
func fillContiguousStrides(st, shape []int) {
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
}

// normDim maps a possibly negative dimension index into [0, n).
func normDim(d, n int) int {
	if d < 0 {
		d += n
	}
	if d < 0 || d >= n {
		panic(fmt.Sprintf("tensor: dimension %d out of range for %d dims", d, n))
	}
	return d
}

// NormDim is normDim for other packages: d in [-n, n) maps into [0, n).
func NormDim(d, n int) int { return normDim(d, n) }

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BroadcastShapes returns the NumPy broadcast of the given shapes, or an error.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	nd := 0
	for _, s := range shapes {
		nd = max(nd, len(s))
	}
	out := make([]int, nd)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i := range s {
			o := nd - len(s) + i
			switch {
			case s[i] == out[o] || s[i] == 1:
			case out[o] == 1:
				out[o] = s[i]
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

func mustBroadcast(op string, shapes ...[]int) []int {
	out, err := BroadcastShapes(shapes...)
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: %v", op, err))
	}
	return out
}
