package autograd

import "github.com/lafite-go/lafite/tensor"

// Pad is F.pad in constant mode (pairs from the last dim, negative crops).
// Its gradient is the opposite pad, Pad(g, −pads, 0), whose gradient is Pad
// again, so every order works. value gets no gradient.
func Pad(x *Var, pads []int, value float32) *Var {
	pads = append([]int(nil), pads...)
	return record("pad", tensor.Pad(x.Value, pads, value), []*Var{x}, func(g *Var, _ []bool) []*Var {
		neg := make([]int, len(pads))
		for i, p := range pads {
			neg[i] = -p
		}
		return []*Var{Pad(g, neg, 0)}
	})
}

// Flip reverses x along dims; it is its own adjoint.
func Flip(x *Var, dims ...int) *Var {
	dims = append([]int(nil), dims...)
	return record("flip", tensor.Flip(x.Value, dims...), []*Var{x}, func(g *Var, _ []bool) []*Var {
		return []*Var{Flip(g, dims...)}
	})
}
