package tensor

import (
	"fmt"
	"strings"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// Storage is a flat buffer shared by every view of it: host memory (data) or,
// on the GPU, a block of n float32s at ptr.
type Storage struct {
	data   []float32
	device Device
	pooled bool
	serial uint64 // of a pooled host buffer: its number in allocation order (BufferMark)
	frozen *frozenPacks
	ptr    cuda.DevicePtr
	n      int
}

// Tensor is a strided view of a Storage.
type Tensor struct {
	shape   []int
	strides []int
	offset  int
	storage *Storage
}

// New returns a contiguous tensor of the given shape that owns a copy of data.
// It panics when len(data) does not match the shape (a programming error).
func New(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.New: %d values for shape %v (needs %d)", len(data), shape, n))
	}
	t := Empty(shape...)
	copy(t.storage.data, data)
	return t
}

// FromSlice wraps data without copying. The caller must not modify data while
// the tensor is in use.
func FromSlice(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.FromSlice: %d values for shape %v (needs %d)", len(data), shape, n))
	}
	sh, st := contiguousDims(shape)
	return &Tensor{shape: sh, strides: st, storage: &Storage{data: data}}
}

// Empty returns an uninitialised contiguous tensor from the buffer pool.
func Empty(shape ...int) *Tensor {
	checkShape(shape)
	sh, st := contiguousDims(shape)
	return &Tensor{shape: sh, strides: st, storage: pooledStorage(numel(shape), false)}
}

// pooledStorage is a host storage of n values from the buffer pool (zeroed
// when zero is set), numbered for BufferMark and tracked by the open
// HostScope.
func pooledStorage(n int, zero bool) *Storage {
	st := &Storage{data: allocBuffer(n, zero), pooled: true, serial: nextSerial()}
	trackHost(st)
	return st
}

// Zeros returns a contiguous tensor of zeros.
func Zeros(shape ...int) *Tensor {
	checkShape(shape)
	sh, st := contiguousDims(shape)
	return &Tensor{shape: sh, strides: st, storage: pooledStorage(numel(shape), true)}
}

// Full returns a contiguous tensor filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := Empty(shape...)
	fill(t.storage.data, v)
	return t
}

// Ones returns a contiguous tensor of ones.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return New([]float32{v}) }

// ZerosLike returns zeros with t's shape, on t's device.
func ZerosLike(t *Tensor) *Tensor { return ZerosOn(t.Device(), t.shape...) }

// OnesLike returns ones with t's shape, on t's device.
func OnesLike(t *Tensor) *Tensor { return FullOn(t.Device(), 1, t.shape...) }

// Release hands the storage back to the pool. The tensor and every view of it
// must not be used afterwards. On the host releasing is optional (the GC
// reclaims the rest); GPU memory returns to the allocator only through
// Release or a Scope.
func (t *Tensor) Release() {
	if t == nil || t.storage == nil {
		return
	}
	if t.storage.device == CUDA {
		cudaRelease(t)
		return
	}
	if t.storage.pooled {
		freeBuffer(t.storage.data)
	}
	t.storage.data = nil
	t.storage = nil
}

// Shape returns a copy of the shape.
func (t *Tensor) Shape() []int { return cloneInts(t.shape) }

// HasShape reports whether t's shape is shape, without copying it (Shape
// does: the checks a training step makes thousands of times use this).
func (t *Tensor) HasShape(shape ...int) bool { return SameShape(t.shape, shape) }

// SameShapeAs reports whether t and u have the same shape.
func (t *Tensor) SameShapeAs(u *Tensor) bool { return SameShape(t.shape, u.shape) }

// Strides returns a copy of the strides, in elements.
func (t *Tensor) Strides() []int { return cloneInts(t.strides) }

// Offset is the index of element [0,...,0] in the storage.
func (t *Tensor) Offset() int { return t.offset }

// Dim returns the number of dimensions.
func (t *Tensor) Dim() int { return len(t.shape) }

// Size returns the extent of dimension d; negative d counts from the end.
func (t *Tensor) Size(d int) int { return t.shape[normDim(d, len(t.shape))] }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return numel(t.shape) }

// Device returns where the storage lives.
func (t *Tensor) Device() Device { return t.storage.device }

// IsContiguous reports whether the view is row-major without gaps.
func (t *Tensor) IsContiguous() bool {
	expect := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.strides[i] != expect {
			return false
		}
		expect *= t.shape[i]
	}
	return true
}

// Storage exposes the whole underlying buffer (kernels index it with
// Offset and Strides). It panics for a GPU tensor.
func (t *Tensor) StorageData() []float32 {
	requireHost("StorageData", t)
	return t.storage.data
}

// Data returns the elements of a contiguous tensor as a slice that aliases the
// storage. It panics for non-contiguous views (use Contiguous first) and for
// GPU tensors (use To(CPU) first).
func (t *Tensor) Data() []float32 {
	requireHost("Data", t)
	if !t.IsContiguous() {
		panic("tensor.Data: tensor is not contiguous; call Contiguous first")
	}
	return t.storage.data[t.offset : t.offset+t.Numel()]
}

// ToSlice returns a fresh row-major copy of the elements.
func (t *Tensor) ToSlice() []float32 {
	if t.storage.device == CUDA {
		return cudaToHost(t).storage.data
	}
	out := make([]float32, t.Numel())
	copy(out, t.Contiguous().Data())
	return out
}

// Item returns the single element of a one-element tensor.
func (t *Tensor) Item() float32 {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("tensor.Item: tensor has %d elements", t.Numel()))
	}
	if t.storage.device == CUDA {
		return cudaElement(t, t.offset)
	}
	return t.storage.data[t.offset]
}

// At returns the element at the given index.
func (t *Tensor) At(idx ...int) float32 {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.At: %d indices for %d dims", len(idx), len(t.shape)))
	}
	off := t.offset
	for i, v := range idx {
		if v < 0 || v >= t.shape[i] {
			panic(fmt.Sprintf("tensor.At: index %d out of range for dim %d of size %d", v, i, t.shape[i]))
		}
		off += v * t.strides[i]
	}
	if t.storage.device == CUDA {
		return cudaElement(t, off)
	}
	return t.storage.data[off]
}

// Clone returns a contiguous copy that shares nothing with t.
func (t *Tensor) Clone() *Tensor {
	if t.storage.device == CUDA {
		return cudaClone(t)
	}
	out := Empty(t.shape...)
	copyStrided(out.storage.data, t)
	return out
}

// Contiguous returns t itself when it is already contiguous, else a copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.IsContiguous() {
		return t
	}
	return t.Clone()
}

// CopyFrom copies src (broadcast to t's shape) into t's elements in place.
// It is the one mutating operation, for optimizers and buffers. t and src
// may live on different devices (an explicit copy, as torch's copy_).
func (t *Tensor) CopyFrom(src *Tensor) {
	t.storage.changed()
	if t.storage.device == CUDA || src.storage.device == CUDA {
		cudaCopyFrom(t, src)
		return
	}
	s := src.BroadcastTo(t.shape...)
	iterate2(t.shape, t.strides, t.offset, s.strides, s.offset, func(n, oOff, oStr, aOff, aStr int) {
		o, a := t.storage.data, s.storage.data
		if oStr == 1 && aStr == 1 {
			copy(o[oOff:oOff+n], a[aOff:aOff+n]) // a run: one memmove, not n bounds-checked stores
			return
		}
		for i := 0; i < n; i++ {
			o[oOff+i*oStr] = a[aOff+i*aStr]
		}
	})
}

func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v", t.shape)
	if t.storage != nil && t.storage.device != CPU {
		fmt.Fprintf(&b, "@%v", t.storage.device)
	}
	if n := t.Numel(); n <= 16 {
		fmt.Fprintf(&b, "%v", t.ToSlice())
	}
	return b.String()
}
