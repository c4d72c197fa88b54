package tensor

// Flip reverses the order of elements along each of dims:
// out[..., i, ...] = x[..., n-1-i, ...]. It returns a fresh contiguous tensor
// (a negative-stride view would surprise kernels that assume strides >= 0).
// No dims means no flip, as torch.flip(x, []).
func Flip(x *Tensor, dims ...int) *Tensor {
	if len(dims) == 0 {
		return x.Clone()
	}
	st := cloneInts(x.strides)
	off := x.offset
	for _, d := range normDims(dims, len(x.shape)) {
		if x.shape[d] > 0 {
			off += (x.shape[d] - 1) * st[d]
		}
		st[d] = -st[d]
	}
	return x.view(cloneInts(x.shape), st, off).Clone()
}
