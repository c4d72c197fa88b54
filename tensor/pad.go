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
	shape, before := padShape(x, pads)
	out := Full(value, shape...)
	if src, dst, ok := padOverlap(x, out, before); ok {
		dst.CopyFrom(src)
	}
	return out
}

// padShape validates pads for x and returns Pad's output shape and where x
// starts in it along each dim (negative: cropped).
func padShape(x *Tensor, pads []int) (shape, before []int) {
	nd := len(x.shape)
	if len(pads)%2 != 0 || len(pads)/2 > nd {
		panic(fmt.Sprintf("tensor.Pad: pads %v must hold (before, after) pairs for at most %d dims", pads, nd))
	}
	shape = cloneInts(x.shape)
	before = make([]int, nd)
	for p := 0; p < len(pads)/2; p++ {
		d := nd - 1 - p
		before[d] = pads[2*p]
		shape[d] += pads[2*p] + pads[2*p+1]
		if shape[d] < 0 {
			panic(fmt.Sprintf("tensor.Pad: pads %v shrink dim %d of x (size %d) below zero", pads, d, x.shape[d]))
		}
	}
	return shape, before
}

// padOverlap returns the views of x and out that Pad copies between, or ok
// false when the padding crops x away entirely.
func padOverlap(x, out *Tensor, before []int) (src, dst *Tensor, ok bool) {
	src, dst = x, out
	for d := range before {
		// Overlap of the input range [before, before+n) with [0, shape[d]).
		lo := max(before[d], 0)
		hi := min(before[d]+x.shape[d], out.shape[d])
		if hi <= lo {
			return nil, nil, false
		}
		dst = dst.Narrow(d, lo, hi-lo)
		src = src.Narrow(d, lo-before[d], hi-lo)
	}
	return src, dst, true
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
