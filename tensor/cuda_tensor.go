package tensor

import (
	"fmt"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// To returns t on dev: t itself when it is already there, else a contiguous
// copy. Moving to CUDA panics with the one-line reason when there is no
// usable GPU (check CUDAAvailable first).
func (t *Tensor) To(dev Device) *Tensor {
	if t.storage.device == dev {
		return t
	}
	switch dev {
	case CUDA:
		src := t.Contiguous()
		out := emptyCUDA(t.shape...)
		if n := t.Numel(); n > 0 {
			check("To", theGPU().b.CopyHtoDF32(out.storage.ptr, src.storage.data[src.offset:src.offset+n]))
		}
		return out
	case CPU:
		return cudaToHost(t)
	}
	panic(fmt.Sprintf("tensor.To: unknown device %v", dev))
}

func requireHost(op string, t *Tensor) {
	if t.storage.device != CPU {
		panic(fmt.Sprintf("tensor.%s: tensor is on %v; copy it to the host with To(tensor.CPU) first", op, t.storage.device))
	}
}

func cudaRelease(t *Tensor) {
	if t.storage.ptr != 0 {
		theGPU().free(t.storage)
	}
	t.storage = nil
}

// span returns the lowest and highest storage offsets a view touches.
func span(t *Tensor) (lo, hi int) {
	lo, hi = t.offset, t.offset
	for i, s := range t.shape {
		if d := (s - 1) * t.strides[i]; d < 0 {
			lo += d
		} else {
			hi += d
		}
	}
	return lo, hi
}

// cudaToHost copies a GPU tensor into a fresh contiguous host tensor. A view
// is downloaded as the storage range it spans and gathered on the host,
// unless that range is much larger than the view (then it is gathered on the
// GPU first).
func cudaToHost(t *Tensor) *Tensor {
	n := t.Numel()
	out := Empty(t.shape...)
	if n == 0 {
		return out
	}
	g := theGPU()
	if t.IsContiguous() {
		check("To", g.b.CopyDtoHF32(out.storage.data[:n], t.ptr()))
		return out
	}
	lo, hi := span(t)
	if hi-lo+1 > 4*n {
		c := cudaClone(t)
		defer g.free(c.storage)
		check("To", g.b.CopyDtoHF32(out.storage.data[:n], c.ptr()))
		return out
	}
	buf := make([]float32, hi-lo+1)
	check("To", g.b.CopyDtoHF32(buf, t.storage.ptr+cuda.DevicePtr(4*int64(lo))))
	hv := &Tensor{shape: t.shape, strides: t.strides, offset: t.offset - lo, storage: &Storage{data: buf}}
	copyStrided(out.storage.data, hv)
	return out
}

// cudaElement downloads the element at storage offset off.
func cudaElement(t *Tensor, off int) float32 {
	if t.storage.ptr == 0 {
		panic("tensor: use of a released CUDA tensor")
	}
	v := make([]float32, 1)
	check("Item", theGPU().b.CopyDtoHF32(v, t.storage.ptr+cuda.DevicePtr(4*int64(off))))
	return v[0]
}

func cudaClone(t *Tensor) *Tensor {
	out := emptyCUDA(t.shape...)
	copyInto(out, t)
	return out
}

// cudaFill sets every element of a contiguous GPU tensor to the float with
// the given bits.
func cudaFill(t *Tensor, bits uint32) {
	if n := t.Numel(); n > 0 {
		check("Full", theGPU().b.MemsetD32(t.ptr(), bits, int64(n)))
	}
}

// cudaCopyFrom is CopyFrom when either side is on the GPU.
func cudaCopyFrom(t, src *Tensor) {
	switch {
	case t.storage.device == CPU: // download, then the host copy
		t.CopyFrom(src.To(CPU))
	case src.storage.device == CPU:
		up := src.To(CUDA)
		copyInto(t, up.BroadcastTo(t.shape...))
		theGPU().free(up.storage)
	default:
		copyInto(t, src.BroadcastTo(t.shape...))
	}
}

// copyInto copies src (same shape as dst, any strides) into the elements of
// the GPU view dst.
func copyInto(dst, src *Tensor) {
	n := numel(dst.shape)
	if n == 0 {
		return
	}
	g := theGPU()
	if dst.IsContiguous() && src.IsContiguous() {
		check("copy", g.b.CopyDtoD(dst.ptr(), src.ptr(), 4*int64(n)))
		return
	}
	sh, sts := coalesce(dst.shape, src.strides, dst.strides)
	if len(sh) > cuda.MaxDims { // too many dims for the strided kernel: gather on the host
		noteFallback("copy>8dims")
		h := src.To(CPU)
		up := h.To(CUDA)
		copyInto(dst, up)
		g.free(up.storage)
		return
	}
	s := ewShape("copy", sh, sts[0], nil, sts[1])
	g.launch("elementwise.cu", "ew_unary_strided_f32", g.grid1(int64(n)), cuda.D1(256), 0,
		cuda.EwCopy, s, float32(0), float32(0), src.ptr(), dst.ptr())
}

// ewShape builds the kernels' strided shape, refusing what their 32-bit
// index math cannot address.
func ewShape(op string, size, a, b, o []int) cuda.EwShape {
	for _, st := range [][]int{a, b, o} {
		for i, v := range st {
			if span := int64(size[i]-1) * int64(v); span >= 1<<31 || span <= -(1<<31) {
				panic(fmt.Sprintf("tensor.%s: a view spanning %d elements exceeds the CUDA kernels' 32-bit indexing", op, span))
			}
		}
	}
	s, err := cuda.NewEwShape(size, a, b, o)
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: %v", op, err))
	}
	return s
}

// require32 panics when a tensor is too large for 32-bit kernel indexing.
func require32(op string, ts ...*Tensor) {
	for _, t := range ts {
		if t != nil && int64(t.Numel()) >= 1<<31 {
			panic(fmt.Sprintf("tensor.%s: %d elements exceed the CUDA kernels' 32-bit indexing", op, t.Numel()))
		}
	}
}
