package tensor

import "fmt"

// Pad is torch.nn.functional.pad in constant mode. pads holds (before, after)
// pairs starting from the LAST dimension: [left, right, top, bottom, ...];
// positive values add elements equal to value, negative values crop.
// out[i] = x[i - before] where that index exists, else value.
func Pad(x *Tensor, pads []int, value float32) *Tensor {
	if dispatchCUDA("Pad", x) {
		return cudaPad(x, pads, value)
	}
	nd := len(x.shape)
	if len(pads)%2 != 0 || len(pads)/2 > nd {
		panic(fmt.Sprintf("tensor.Pad: pads %v must hold (before, after) pairs for at most %d dims", pads, nd))
	}
	shape := cloneInts(x.shape)
	before := make([]int, nd)
	for p := 0; p < len(pads)/2; p++ {
		d := nd - 1 - p
		before[d] = pads[2*p]
		shape[d] += pads[2*p] + pads[2*p+1]
		if shape[d] < 0 {
			panic(fmt.Sprintf("tensor.Pad: pads %v shrink dim %d of x (size %d) below zero", pads, d, x.shape[d]))
		}
	}
	out := Full(value, shape...)
	src, dst := x, out
	for d := 0; d < nd; d++ {
		// Overlap of the input range [before, before+n) with [0, shape[d]).
		lo := max(before[d], 0)
		hi := min(before[d]+x.shape[d], shape[d])
		if hi <= lo {
			return out
		}
		dst = dst.Narrow(d, lo, hi-lo)
		src = src.Narrow(d, lo-before[d], hi-lo)
	}
	dst.CopyFrom(src)
	return out
}

// negatePads returns -pads: the crop (or zero-pad) that undoes Pad, its adjoint.
func negatePads(pads []int) []int {
	out := make([]int, len(pads))
	for i, p := range pads {
		out[i] = -p
	}
	return out
}

// PadAdjoint is the transpose of Pad's linear part: it crops the padding
// away (and zero-fills what Pad cropped), i.e. Pad(g, -pads, 0).
func PadAdjoint(g *Tensor, pads []int) *Tensor { return Pad(g, negatePads(pads), 0) }
