package cuda

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// DevicePtr is a CUDA device address (CUdeviceptr).
type DevicePtr uint64

// ErrNoDriver means libcuda.so.1 could not be loaded: the machine has no
// NVIDIA driver and the engine runs on the CPU.
var ErrNoDriver = errors.New("no CUDA driver (libcuda.so.1 not found): running on CPU")

// ErrNoDevice means the driver loaded but reports no usable GPU.
var ErrNoDevice = errors.New("no CUDA device: running on CPU")

// Error is a failed CUDA driver call.
type Error struct {
	Call string // the driver function, e.g. "cuMemAlloc_v2"
	Code int    // the CUresult
	Name string // e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Msg  string // CUDA's description
}

func (e *Error) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Call, e.Name, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Call, e.Name)
}

// CUresult values this package reacts to.
const (
	cudaErrorOutOfMemory  = 2
	cudaErrorInvalidImage = 200
)

// CUdevice_attribute values used by Info and the launch helpers.
const (
	attrMaxThreadsPerBlock        = 1
	attrMaxSharedMemPerBlock      = 8
	attrClockRate                 = 13
	attrMultiprocessorCount       = 16
	attrMemoryClockRate           = 36
	attrGlobalMemoryBusWidth      = 37
	attrComputeCapabilityMajor    = 75
	attrComputeCapabilityMinor    = 76
	attrMaxSharedMemPerBlockOptin = 97
)

// funcAttrMaxDynamicSharedSizeBytes is CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.
const funcAttrMaxDynamicSharedSizeBytes = 8

// driver is the bound libcuda. Handles (contexts, streams, modules...) are
// opaque C pointers kept as uintptr: they point to driver memory, never Go's.
type driver struct {
	path string

	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v *int32) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uintptr, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemAlloc                func(p *DevicePtr, bytes uintptr) int32
	cuMemFree                 func(p DevicePtr) int32
	cuMemcpyHtoDAsync         func(dst DevicePtr, src *byte, bytes uintptr, stream uintptr) int32
	cuMemcpyDtoHAsync         func(dst *byte, src DevicePtr, bytes uintptr, stream uintptr) int32
	cuMemcpyDtoDAsync         func(dst, src DevicePtr, bytes uintptr, stream uintptr) int32
	cuMemsetD32Async          func(dst DevicePtr, v uint32, n uintptr, stream uintptr) int32
	cuMemGetInfo              func(free, total *uintptr) int32
	cuStreamCreate            func(s *uintptr, flags uint32) int32
	cuStreamDestroy           func(s uintptr) int32
	cuStreamSynchronize       func(s uintptr) int32
	cuEventCreate             func(e *uintptr, flags uint32) int32
	cuEventRecord             func(e uintptr, s uintptr) int32
	cuEventSynchronize        func(e uintptr) int32
	cuEventElapsedTime        func(ms *float32, start, end uintptr) int32
	cuEventDestroy            func(e uintptr) int32
	cuModuleLoadData          func(m *uintptr, image *byte) int32
	cuModuleGetFunction       func(f *uintptr, m uintptr, name string) int32
	cuModuleUnload            func(m uintptr) int32
	cuFuncSetAttribute        func(f uintptr, attr int32, v int32) int32
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params *unsafe.Pointer, extra uintptr) int32
	cuGetErrorName            func(res int32, s **byte) int32
	cuGetErrorString          func(res int32, s **byte) int32
}

var (
	drvOnce sync.Once
	drv     *driver
	drvErr  error
)

// loadDriver loads and initialises libcuda once per process. With an error the
// driver may still be non-nil (loaded, but cuInit failed): use it only for
// version queries.
func loadDriver() (*driver, error) {
	drvOnce.Do(func() { drv, drvErr = openDriver() })
	return drv, drvErr
}

func openDriver() (*driver, error) {
	path := "libcuda.so.1"
	if p := os.Getenv("LAFITE_LIBCUDA"); p != "" {
		path = p
	}
	h, err := dlopen(path)
	if err != nil {
		if path != "libcuda.so.1" {
			return nil, fmt.Errorf("%w (LAFITE_LIBCUDA=%s: %v)", ErrNoDriver, path, err)
		}
		return nil, ErrNoDriver
	}
	d := &driver{path: path}
	// The _v2 names are what cuda.h maps the plain names to since CUDA 4/11.
	err = bind(h, path, map[string]any{
		"cuInit":                       &d.cuInit,
		"cuDriverGetVersion":           &d.cuDriverGetVersion,
		"cuDeviceGetCount":             &d.cuDeviceGetCount,
		"cuDeviceGet":                  &d.cuDeviceGet,
		"cuDeviceGetName":              &d.cuDeviceGetName,
		"cuDeviceGetAttribute":         &d.cuDeviceGetAttribute,
		"cuDeviceTotalMem_v2":          &d.cuDeviceTotalMem,
		"cuDevicePrimaryCtxRetain":     &d.cuDevicePrimaryCtxRetain,
		"cuDevicePrimaryCtxRelease_v2": &d.cuDevicePrimaryCtxRelease,
		"cuCtxSetCurrent":              &d.cuCtxSetCurrent,
		"cuCtxSynchronize":             &d.cuCtxSynchronize,
		"cuMemAlloc_v2":                &d.cuMemAlloc,
		"cuMemFree_v2":                 &d.cuMemFree,
		"cuMemcpyHtoDAsync_v2":         &d.cuMemcpyHtoDAsync,
		"cuMemcpyDtoHAsync_v2":         &d.cuMemcpyDtoHAsync,
		"cuMemcpyDtoDAsync_v2":         &d.cuMemcpyDtoDAsync,
		"cuMemsetD32Async":             &d.cuMemsetD32Async,
		"cuMemGetInfo_v2":              &d.cuMemGetInfo,
		"cuStreamCreate":               &d.cuStreamCreate,
		"cuStreamDestroy_v2":           &d.cuStreamDestroy,
		"cuStreamSynchronize":          &d.cuStreamSynchronize,
		"cuEventCreate":                &d.cuEventCreate,
		"cuEventRecord":                &d.cuEventRecord,
		"cuEventSynchronize":           &d.cuEventSynchronize,
		"cuEventElapsedTime":           &d.cuEventElapsedTime,
		"cuEventDestroy_v2":            &d.cuEventDestroy,
		"cuModuleLoadData":             &d.cuModuleLoadData,
		"cuModuleGetFunction":          &d.cuModuleGetFunction,
		"cuModuleUnload":               &d.cuModuleUnload,
		"cuFuncSetAttribute":           &d.cuFuncSetAttribute,
		"cuLaunchKernel":               &d.cuLaunchKernel,
		"cuGetErrorName":               &d.cuGetErrorName,
		"cuGetErrorString":             &d.cuGetErrorString,
	}, map[string]bool{"cuFuncSetAttribute": true})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDriver, err)
	}
	// cuInit fails with CUDA_ERROR_NO_DEVICE on a machine with a driver but
	// no GPU, and with other codes when the driver and kernel module disagree;
	// either way there is no usable GPU and the caller falls back to the CPU.
	// The driver is still returned so that Info can report its version.
	if err := d.check("cuInit", d.cuInit(0)); err != nil {
		return d, fmt.Errorf("%w (%v)", ErrNoDevice, err)
	}
	return d, nil
}

// check turns a CUresult into an error naming the call and CUDA's error name.
func (d *driver) check(call string, res int32) error {
	if res == 0 {
		return nil
	}
	e := &Error{Call: call, Code: int(res)}
	var p *byte
	if d.cuGetErrorName(res, &p) == 0 && p != nil {
		e.Name = cString(p)
	} else {
		e.Name = fmt.Sprintf("CUresult %d", res)
	}
	p = nil
	if d.cuGetErrorString(res, &p) == 0 && p != nil {
		e.Msg = cString(p)
	}
	return e
}

// DriverVersion returns the CUDA version the driver supports, e.g. 12040 for
// 12.4.
func DriverVersion() (int, error) {
	d, err := loadDriver()
	if err != nil {
		return 0, err
	}
	var v int32
	if err := d.check("cuDriverGetVersion", d.cuDriverGetVersion(&v)); err != nil {
		return 0, err
	}
	return int(v), nil
}

// DeviceCount returns the number of CUDA devices; the error is ErrNoDriver or
// ErrNoDevice (wrapped) when there is no usable GPU.
func DeviceCount() (int, error) {
	d, err := loadDriver()
	if err != nil {
		return 0, err
	}
	var n int32
	if err := d.check("cuDeviceGetCount", d.cuDeviceGetCount(&n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// DeviceProps are the static properties of one GPU.
type DeviceProps struct {
	Ordinal         int
	Name            string
	Major, Minor    int   // compute capability
	TotalMem        int64 // bytes
	SMs             int
	MaxSharedOptin  int // bytes of shared memory a block may opt in to
	ClockKHz        int
	MemClockKHz     int
	MemBusWidthBits int
}

// CC returns the compute capability as one number, e.g. 90 for 9.0.
func (p DeviceProps) CC() int { return p.Major*10 + p.Minor }

// deviceProps reads the properties of device ordinal; it needs no context.
func (d *driver) deviceProps(ordinal int) (DeviceProps, int32, error) {
	p := DeviceProps{Ordinal: ordinal}
	var dev int32
	if err := d.check("cuDeviceGet", d.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return p, 0, err
	}
	name := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.cuDeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
		return p, 0, err
	}
	p.Name = string(trimAtNUL(name))
	var mem uintptr
	if err := d.check("cuDeviceTotalMem_v2", d.cuDeviceTotalMem(&mem, dev)); err != nil {
		return p, 0, err
	}
	p.TotalMem = int64(mem)
	for _, a := range []struct {
		attr int32
		dst  *int
	}{
		{attrComputeCapabilityMajor, &p.Major},
		{attrComputeCapabilityMinor, &p.Minor},
		{attrMultiprocessorCount, &p.SMs},
		{attrMaxSharedMemPerBlockOptin, &p.MaxSharedOptin},
		{attrClockRate, &p.ClockKHz},
		{attrMemoryClockRate, &p.MemClockKHz},
		{attrGlobalMemoryBusWidth, &p.MemBusWidthBits},
	} {
		var v int32
		if err := d.check("cuDeviceGetAttribute", d.cuDeviceGetAttribute(&v, a.attr, dev)); err != nil {
			return p, 0, err
		}
		*a.dst = int(v)
	}
	return p, dev, nil
}

func trimAtNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
