package tensor

import "math"

// Device says where a tensor's storage lives.
type Device int

const (
	// CPU is host memory, computed by package kernels/cpu.
	CPU Device = iota
	// CUDA is the memory of the GPU (ordinal $LAFITE_CUDA_DEVICE, default 0),
	// computed by the kernels of package kernels/cuda.
	CUDA
)

func (d Device) String() string {
	switch d {
	case CPU:
		return "cpu"
	case CUDA:
		return "cuda"
	}
	return "unknown-device"
}

// EmptyOn returns an uninitialised contiguous tensor on dev.
func EmptyOn(dev Device, shape ...int) *Tensor {
	if dev == CUDA {
		checkShape(shape)
		return emptyCUDA(shape...)
	}
	return Empty(shape...)
}

// ZerosOn returns a contiguous tensor of zeros on dev.
func ZerosOn(dev Device, shape ...int) *Tensor {
	if dev == CUDA {
		return FullOn(CUDA, 0, shape...)
	}
	return Zeros(shape...)
}

// FullOn returns a contiguous tensor on dev filled with v.
func FullOn(dev Device, v float32, shape ...int) *Tensor {
	if dev == CUDA {
		t := EmptyOn(CUDA, shape...)
		cudaFill(t, math.Float32bits(v))
		return t
	}
	return Full(v, shape...)
}
