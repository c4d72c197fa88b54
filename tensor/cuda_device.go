package tensor

import (
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
)

// The CUDA device of package tensor: one GPU, opened on first use, whose
// storage blocks come from kernels/cuda's caching allocator and go back to it
// through Release or a Scope (never through finalizers).

// CUDABackend is what the tensor layer needs from a GPU: *cuda.Device, or
// a stand-in such as package kernels/cuda/emu, an emulator that lets the
// GPU code paths run in tests on machines without one.
type CUDABackend interface {
	Alloc(bytes int64) (cuda.DevicePtr, error)
	Free(p cuda.DevicePtr) error
	CopyHtoDF32(dst cuda.DevicePtr, src []float32) error
	CopyDtoHF32(dst []float32, src cuda.DevicePtr) error
	CopyHtoDI32(dst cuda.DevicePtr, src []int32) error
	CopyDtoD(dst, src cuda.DevicePtr, bytes int64) error
	MemsetD32(dst cuda.DevicePtr, v uint32, n int64) error
	Function(file, entry string) (*cuda.Function, error)
	Launch(f *cuda.Function, grid, block cuda.Dim3, sharedMem int, args ...any) error
	Synchronize() error
	Stats() (live, peak int64)
}

// gpuState is the opened GPU.
type gpuState struct {
	b     CUDABackend
	dev   *cuda.Device // nil under the test emulator
	props cuda.DeviceProps
	sync  bool // LAFITE_CUDA_SYNC: wait after every launch so a fault names its kernel
	// winograd is the Winograd output tile the planner uses for large 3x3
	// stride-1 convs: 4, or what LAFITE_CUDA_WINOGRAD says (2, or 0 for the
	// direct kernels), for A/B timings.
	winograd int
	// winogradForced: LAFITE_CUDA_WINOGRAD was set, so convs follow it
	// rather than the autotuner.
	winogradForced bool
	// autotune: time the ways to run an op on first use (cuda_autotune.go);
	// on for a driver device unless LAFITE_CUDA_AUTOTUNE=0.
	autotune bool
	// upfirdnTiled (LAFITE_CUDA_UPFIRDN=tiled): the 4x4 upfirdn2d cases on
	// the shared-memory tile kernels, for A/B timings.
	upfirdnTiled bool
	// gemmForced (LAFITE_CUDA_GEMM): the GEMM kernel of cuda.SgemmKernels
	// every large GEMM uses, or "" for the autotuner's choice.
	gemmForced string
	// noMultiTensor (LAFITE_CUDA_MULTI_TENSOR=0): Adam and the moving
	// average one launch per tensor; noSplitK (LAFITE_CUDA_SPLITK=0): no
	// GEMM cut along K unless a test forces it. Fallbacks, as
	// LAFITE_CUDA_TENSOR_CORES=0 is, should those kernels fail on a card.
	noMultiTensor, noSplitK bool

	fnMu sync.Mutex
	fns  map[kernelName]*cuda.Function

	scalarMu sync.Mutex
	scalars  map[uint32]*Storage // 0-d host tensors met by GPU ops, uploaded once
}

var (
	gpuMu     sync.Mutex
	gpuCur    *gpuState
	gpuErr    error
	gpuOpened bool

	cudaPoison atomic.Bool
)

// poisonBits is the NaN that SetCUDAPoison fills new storage with.
const poisonBits = 0x7fc00bad

// openGPU opens the device named by $LAFITE_CUDA_DEVICE (default 0) and
// checks that NVRTC can compile its kernels. LAFITE_CUDA_DEVICE=hostsim
// opens the host simulator instead (kernels/cuda/hostsim: the same CUDA
// kernels compiled by g++ and run on the CPU, slowly): every GPU code path,
// kernels included, then runs on a machine without a GPU.
func openGPU() (*gpuState, error) {
	if _, err := gemmKernelSetting(os.Getenv("LAFITE_CUDA_GEMM")); err != nil {
		return nil, err
	}
	if os.Getenv("LAFITE_CUDA_DEVICE") == "hostsim" {
		d, err := hostsim.New()
		if err != nil {
			return nil, fmt.Errorf("LAFITE_CUDA_DEVICE=hostsim: %w", err)
		}
		return newGPUState(d, nil, d.Props()), nil
	}
	ordinal := 0
	if s := os.Getenv("LAFITE_CUDA_DEVICE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("LAFITE_CUDA_DEVICE=%q is not a device ordinal", s)
		}
		ordinal = v
	}
	d, err := cuda.Open(ordinal)
	if err != nil {
		return nil, err
	}
	if _, err := cuda.LoadNVRTC(); err != nil {
		d.Close()
		return nil, fmt.Errorf("GPU %q found but NVRTC is missing, so kernels cannot be compiled: running on CPU; %s", d.Props.Name, cuda.NVRTCInstallHint)
	}
	if err := gemmUnsupported(os.Getenv("LAFITE_CUDA_GEMM"), d.Props); err != nil {
		d.Close()
		return nil, err
	}
	return newGPUState(d, d, d.Props), nil
}

func newGPUState(b CUDABackend, dev *cuda.Device, props cuda.DeviceProps) *gpuState {
	gemm, _ := gemmKernelSetting(os.Getenv("LAFITE_CUDA_GEMM")) // checked by openGPU
	return &gpuState{b: countingBackend{b}, dev: dev, props: props, sync: os.Getenv("LAFITE_CUDA_SYNC") == "1",
		winograd:       winogradSetting(os.Getenv("LAFITE_CUDA_WINOGRAD")),
		winogradForced: os.Getenv("LAFITE_CUDA_WINOGRAD") != "",
		autotune:       autotuneSetting(dev != nil),
		upfirdnTiled:   os.Getenv("LAFITE_CUDA_UPFIRDN") == "tiled",
		gemmForced:     gemm,
		noMultiTensor:  cuda.FallbackNamed("multi-tensor").IsOff(),
		noSplitK:       cuda.FallbackNamed("split-k").IsOff(),
		fns:            map[kernelName]*cuda.Function{}, scalars: map[uint32]*Storage{}}
}

// winogradSetting reads LAFITE_CUDA_WINOGRAD: "0" off, "2" F(2x2, 3x3),
// anything else (unset) F(4x4, 3x3).
func winogradSetting(v string) int {
	switch v {
	case "0":
		return 0
	case "2":
		return 2
	}
	return 4
}

// currentGPU opens the GPU once and returns it, or the reason there is none.
func currentGPU() (*gpuState, error) {
	gpuMu.Lock()
	defer gpuMu.Unlock()
	if !gpuOpened {
		gpuCur, gpuErr = openGPU()
		gpuOpened = true
	}
	return gpuCur, gpuErr
}

// theGPU is currentGPU for code that already holds GPU tensors or was asked
// for one: no GPU there is a programming error, reported in one line.
func theGPU() *gpuState {
	g, err := currentGPU()
	if err != nil {
		panic("tensor: CUDA device unavailable: " + err.Error())
	}
	return g
}

// UseCUDABackend makes b, a device with properties props, the CUDA device
// of the package until restore is called, in place of the GPU that would be
// opened: for tests with an emulated GPU (kernels/cuda/emu). Tensors of one
// backend must not be used with another.
func UseCUDABackend(b CUDABackend, props cuda.DeviceProps) (restore func()) {
	gpuMu.Lock()
	prev, prevErr, prevOpened := gpuCur, gpuErr, gpuOpened
	gpuCur, gpuErr, gpuOpened = newGPUState(b, nil, props), nil, true
	gpuMu.Unlock()
	return func() {
		gpuMu.Lock()
		gpuCur, gpuErr, gpuOpened = prev, prevErr, prevOpened
		gpuMu.Unlock()
	}
}

// CUDAAvailable returns nil when tensors can be moved to the GPU, else the
// one-line reason (no driver, no device, no NVRTC).
func CUDAAvailable() error {
	_, err := currentGPU()
	return err
}

// CUDADevice returns the GPU that CUDA tensors live on, for timing and
// inspection (events, memory, properties).
func CUDADevice() (*cuda.Device, error) {
	g, err := currentGPU()
	if err != nil {
		return nil, err
	}
	if g.dev == nil {
		return nil, errors.New("the CUDA device is emulated (tests): no driver device")
	}
	return g.dev, nil
}

// CUDAName is the name of the CUDA device tensors live on: the GPU's, or a
// stand-in's ("emulated GPU", "host simulator (g++)"); empty without one.
func CUDAName() string {
	g, err := currentGPU()
	if err != nil {
		return ""
	}
	return g.props.Name
}

// CUDAProps returns the properties of the CUDA device tensors live on (a
// stand-in's too), e.g. its compute capability, which decides the GEMM
// kernels it can run (cuda.SgemmKernelsFor).
func CUDAProps() (cuda.DeviceProps, error) {
	g, err := currentGPU()
	if err != nil {
		return cuda.DeviceProps{}, err
	}
	return g.props, nil
}

// CUDAMemoryStats reports the bytes of GPU memory held by tensors now and at
// peak (the caching allocator's size classes); zeros when no GPU was opened.
func CUDAMemoryStats() (live, peak int64) {
	gpuMu.Lock()
	g := gpuCur
	gpuMu.Unlock()
	if g == nil {
		return 0, 0
	}
	return g.b.Stats()
}

// SetCUDAPoison makes every new GPU tensor start filled with NaN, so that a
// kernel that leaves an output element unwritten is caught by comparison.
// For tests and debugging: it costs one memset per allocation.
func SetCUDAPoison(on bool) { cudaPoison.Store(on) }

// kernelName keys the loaded kernels: a struct, not file + ":" + entry,
// which allocated a string on every launch.
type kernelName struct{ file, entry string }

// fn returns a kernel entry point, compiling its file on first use.
func (g *gpuState) fn(file, entry string) *cuda.Function {
	key := kernelName{file, entry}
	g.fnMu.Lock()
	f := g.fns[key]
	g.fnMu.Unlock()
	if f != nil {
		return f
	}
	f, err := g.b.Function(file, entry)
	if err != nil {
		panic(fmt.Sprintf("tensor: CUDA kernel %s of %s: %v", entry, file, err))
	}
	g.fnMu.Lock()
	g.fns[key] = f
	g.fnMu.Unlock()
	return f
}

// launch queues a kernel; failures are programming errors or a broken
// device, so they panic with the kernel's name.
func (g *gpuState) launch(file, entry string, grid, block cuda.Dim3, shared int, args ...any) {
	if grid.X == 0 || grid.Y == 0 || grid.Z == 0 {
		return // nothing to compute
	}
	f := g.fn(file, entry)
	do := func() {
		if err := g.b.Launch(f, grid, block, shared, args...); err != nil {
			panic(fmt.Sprintf("tensor: %v", err))
		}
	}
	if prof.enabled.Load() {
		prof.launch(g, file+":"+entry, do)
	} else {
		do()
	}
	if g.sync {
		if err := g.b.Synchronize(); err != nil {
			hint := ""
			if f, ok := cuda.FallbackOf(entry); ok {
				hint = fmt.Sprintf(" (%s, which no card had run when written: %s switches it off)", f.What, f.Switch())
			}
			panic(fmt.Sprintf("tensor: CUDA kernel %s failed: %v%s", entry, err, hint))
		}
	}
}

func (g *gpuState) plan(p cuda.LaunchPlan, args ...any) {
	g.launch(p.File, p.Entry, p.Grid, p.Block, p.Shared, args...)
}

// grid1 is the grid of a grid-stride kernel over n items, block 256.
func (g *gpuState) grid1(n int64) cuda.Dim3 { return cuda.GridStride(n, 256, g.props.SMs) }

func check(op string, err error) {
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: CUDA: %v", op, err))
	}
}

// alloc returns a GPU storage of n float32s, tracked by the open Scope.
func (g *gpuState) alloc(n int) *Storage {
	s := g.allocUntracked(n)
	scopeMu.Lock()
	if curScope != nil {
		curScope.owned = append(curScope.owned, s)
	}
	scopeMu.Unlock()
	return s
}

func (g *gpuState) allocUntracked(n int) *Storage {
	p, err := g.b.Alloc(4 * int64(max(n, 1)))
	if err != nil {
		panic(fmt.Sprintf("tensor: CUDA allocation of %d floats: %v", n, err))
	}
	if cudaPoison.Load() {
		check("alloc", g.b.MemsetD32(p, poisonBits, int64(max(n, 1))))
	}
	return &Storage{device: CUDA, ptr: p, n: n}
}

// free returns a GPU storage to the allocator; a second free is a no-op.
func (g *gpuState) free(s *Storage) {
	if s.ptr == 0 {
		return
	}
	check("Release", g.b.Free(s.ptr))
	s.ptr = 0
}

// emptyCUDA is Empty on the GPU.
func emptyCUDA(shape ...int) *Tensor {
	g := theGPU()
	sh, st := contiguousDims(shape)
	return &Tensor{shape: sh, strides: st, storage: g.alloc(numel(shape))}
}

// ptr is the device address of element [0, ..., 0] of a GPU tensor.
func (t *Tensor) ptr() cuda.DevicePtr {
	if t.storage.ptr == 0 {
		panic("tensor: use of a released CUDA tensor")
	}
	return t.storage.ptr + cuda.DevicePtr(4*int64(t.offset))
}

// ptrOrNull is ptr for an optional operand.
func ptrOrNull(t *Tensor) cuda.DevicePtr { return ptrAt(t, 0) }

// ptrAt is t's device address plus elems elements, or null for a nil t.
func ptrAt(t *Tensor, elems int) cuda.DevicePtr {
	if t == nil {
		return 0
	}
	return t.ptr() + cuda.DevicePtr(4*int64(elems))
}

// scalarOnGPU returns a 0-d GPU tensor holding v. The values of 0-d host
// tensors met by GPU ops (autograd's constants) are uploaded once and kept,
// so that steady-state steps make no host-to-device copies for them.
func (g *gpuState) scalarOnGPU(v float32) *Tensor {
	bits := math.Float32bits(v)
	g.scalarMu.Lock()
	s := g.scalars[bits]
	if s == nil && len(g.scalars) < 4096 {
		s = g.allocUntracked(1)
		check("scalar", g.b.CopyHtoDF32(s.ptr, []float32{v}))
		g.scalars[bits] = s
	}
	g.scalarMu.Unlock()
	if s == nil { // too many distinct constants: an ordinary temporary
		s = g.alloc(1)
		check("scalar", g.b.CopyHtoDF32(s.ptr, []float32{v}))
	}
	return &Tensor{shape: []int{}, strides: []int{}, storage: s}
}

// onGPU returns t itself when it lives on the GPU, or a GPU copy of a 0-d host
// tensor (the one kind dispatchCUDA lets into a GPU op).
func onGPU(t *Tensor) *Tensor {
	if t == nil || t.storage.device == CUDA {
		return t
	}
	if len(t.shape) != 0 {
		panic("tensor: internal error: host tensor of shape " + fmt.Sprint(t.shape) + " reached a CUDA op")
	}
	return theGPU().scalarOnGPU(t.Item())
}

// dispatchCUDA reports whether op must run on the GPU, i.e. whether any input
// lives there. Inputs on different devices panic, naming the devices in
// argument order, except 0-d host tensors, which join a GPU op as scalars
// (as in PyTorch). nil inputs (absent optional operands) are skipped.
func dispatchCUDA(op string, ts ...*Tensor) bool {
	gpu, host := false, false
	for _, t := range ts {
		if t == nil {
			continue
		}
		if t.storage.device == CUDA {
			gpu = true
		} else if len(t.shape) != 0 {
			host = true
		}
	}
	if gpu && host {
		devs := make([]string, len(ts))
		for i, t := range ts {
			switch {
			case t == nil:
				devs[i] = "nil"
			case t.storage.device == CPU && len(t.shape) == 0:
				devs[i] = "cpu 0-d"
			default:
				devs[i] = t.storage.device.String()
			}
		}
		panic(fmt.Sprintf("tensor.%s: inputs on different devices (%s); move them to one device with To",
			op, strings.Join(devs, ", ")))
	}
	return gpu
}

// Copies between host and GPU, counted so that tests and profiles can see a
// training step's round trips (a download waits for every queued kernel).
var transfers struct {
	htod, dtoh, htodBytes, dtohBytes atomic.Int64
}

// countingBackend counts the copies of the backend it wraps.
type countingBackend struct{ CUDABackend }

func (c countingBackend) CopyHtoDF32(dst cuda.DevicePtr, src []float32) error {
	transfers.htod.Add(1)
	transfers.htodBytes.Add(4 * int64(len(src)))
	return c.CUDABackend.CopyHtoDF32(dst, src)
}

func (c countingBackend) CopyHtoDI32(dst cuda.DevicePtr, src []int32) error {
	transfers.htod.Add(1)
	transfers.htodBytes.Add(4 * int64(len(src)))
	return c.CUDABackend.CopyHtoDI32(dst, src)
}

func (c countingBackend) CopyDtoHF32(dst []float32, src cuda.DevicePtr) error {
	transfers.dtoh.Add(1)
	transfers.dtohBytes.Add(4 * int64(len(dst)))
	return c.CUDABackend.CopyDtoHF32(dst, src)
}

// CUDATransferCounts are the copies between host and GPU made by the tensor
// layer since the process started: uploads (To(CUDA), index lists, scalar
// constants, host fallbacks' results) and downloads (To(CPU), ToSlice, Item,
// At, host fallbacks' inputs). A download synchronises with the GPU.
type CUDATransferCounts struct {
	HtoD, DtoH           int64
	HtoDBytes, DtoHBytes int64
}

// Sub returns the copies made between an earlier count c0 and c.
func (c CUDATransferCounts) Sub(c0 CUDATransferCounts) CUDATransferCounts {
	return CUDATransferCounts{c.HtoD - c0.HtoD, c.DtoH - c0.DtoH, c.HtoDBytes - c0.HtoDBytes, c.DtoHBytes - c0.DtoHBytes}
}

// CUDATransfers returns the copies between host and GPU counted so far.
func CUDATransfers() CUDATransferCounts {
	return CUDATransferCounts{HtoD: transfers.htod.Load(), DtoH: transfers.dtoh.Load(),
		HtoDBytes: transfers.htodBytes.Load(), DtoHBytes: transfers.dtohBytes.Load()}
}

// CUDAFallbackTotal returns how many host fallbacks ran in all (the sum of
// CUDAFallbacks' counts).
func CUDAFallbackTotal() int {
	fallbackMu.Lock()
	defer fallbackMu.Unlock()
	n := 0
	for _, c := range fallbackCounts {
		n += c
	}
	return n
}

// Host fallbacks: ops without a GPU kernel copy their inputs to the host,
// compute there and copy the result back. Each use is counted, and the first
// use of each op logged, so that the gaps show.
var (
	fallbackMu     sync.Mutex
	fallbackCounts = map[string]int{}
	fallbackLogf   = log.Printf
)

func noteFallback(op string) {
	fallbackMu.Lock()
	fallbackCounts[op]++
	first := fallbackCounts[op] == 1
	fallbackMu.Unlock()
	if first {
		fallbackLogf("tensor: %s has no CUDA kernel: computing it on the host (copies in and out)", op)
	}
}

// CUDAFallbacks returns how often each op without a GPU kernel ran on the
// host for GPU inputs, as "op=count" sorted by op.
func CUDAFallbacks() []string {
	fallbackMu.Lock()
	defer fallbackMu.Unlock()
	out := make([]string, 0, len(fallbackCounts))
	for op, n := range fallbackCounts {
		out = append(out, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(out)
	return out
}

// viaHost runs f on host copies of ins (nil stays nil) and returns its result
// on the GPU.
func viaHost(op string, f func(h []*Tensor) *Tensor, ins ...*Tensor) *Tensor {
	noteFallback(op)
	h := make([]*Tensor, len(ins))
	for i, t := range ins {
		if t != nil {
			h[i] = t.To(CPU)
		}
	}
	return f(h).To(CUDA)
}

// Scope collects the GPU storage allocated while it is open, so that a
// training step or a test frees its temporaries in one call. Scopes nest;
// they are meant for the one goroutine that drives the GPU.
type Scope struct {
	parent *Scope
	owned  []*Storage
	closed bool
}

var (
	scopeMu  sync.Mutex
	curScope *Scope
)

// OpenScope starts collecting GPU allocations.
func OpenScope() *Scope {
	scopeMu.Lock()
	defer scopeMu.Unlock()
	s := &Scope{parent: curScope}
	curScope = s
	return s
}

// Close frees every GPU storage allocated since s was opened, except those of
// the keep tensors (and their views), which pass to the enclosing scope. s
// must be the innermost open scope. Host tensors are ignored.
func (s *Scope) Close(keep ...*Tensor) {
	scopeMu.Lock()
	if s.closed || curScope != s {
		scopeMu.Unlock()
		panic("tensor.Scope.Close: not the innermost open scope")
	}
	s.closed = true
	curScope = s.parent
	kept := map[*Storage]bool{}
	for _, t := range keep {
		if t != nil && t.storage != nil {
			kept[t.storage] = true
		}
	}
	var drop []*Storage
	for _, st := range s.owned {
		if kept[st] {
			if s.parent != nil {
				s.parent.owned = append(s.parent.owned, st)
			}
			continue
		}
		drop = append(drop, st)
	}
	s.owned = nil
	scopeMu.Unlock()
	if len(drop) == 0 {
		return
	}
	g := theGPU()
	for _, st := range drop {
		g.free(st)
	}
}
