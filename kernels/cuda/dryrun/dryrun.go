// Package dryrun is a CUDA device that runs nothing. It hands out addresses,
// accepts copies and records every kernel launch with its grid and an
// estimate of the work it asks for, so that the launches of a whole
// workload at full size (a 64x64 Lafite training step at batch 16, say) can
// be counted and weighed on any machine, in the time the host side takes.
//
// The work of a launch is a floor, not a prediction of its time: FLOPs are
// the useful multiply-adds (x2) of a GEMM or convolution from its
// parameters (a strided input gradient counts the taps that are not zero,
// a Winograd convolution its batched GEMMs); bytes are what the launch must
// move through DRAM at least, each operand read or written once: exact from
// the parameters for GEMMs and convolutions, otherwise every buffer the
// launch is given counted from its address to the end of its allocation.
// Copies read back zeros; code that branches on device values sees those.
package dryrun

import (
	"fmt"
	"sync"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// Launch is one recorded kernel launch (or device-side copy or memset).
type Launch struct {
	Kernel string // entry point; "memset" and "copy device-to-device" for those
	Caller string // what SetAttribution's function said at the launch ("" without one)
	Grid   cuda.Dim3
	Block  cuda.Dim3
	FLOPs  float64
	Bytes  float64
}

// Transfers counts the copies between host and device.
type Transfers struct {
	HtoD, DtoH           int
	HtoDBytes, DtoHBytes int64
}

// Device is the dry-run device; it implements tensor.CUDABackend.
type Device struct {
	mu        sync.Mutex
	next      uint64
	blocks    map[uint64]int64 // base address -> bytes
	live      int64
	peak      int64
	props     cuda.DeviceProps
	launches  []Launch
	transfers Transfers
	attribute func() string
}

// SetAttribution makes every later launch, copy and memset record what f
// returns, called on the launching goroutine (a caller outside the engine,
// say, from its stack); nil stops it.
func (d *Device) SetAttribution(f func() string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attribute = f
}

// span separates the addresses of two blocks, so that any address names its
// block (as in package emu).
const span = 1 << 40

// New returns a dry-run device that reports props (what launch planning
// reads: SMs, shared memory, compute capability).
func New(props cuda.DeviceProps) *Device {
	return &Device{blocks: map[uint64]int64{}, props: props}
}

// Props returns the properties the device was made with.
func (d *Device) Props() cuda.DeviceProps { return d.props }

// Alloc returns the address of a new block; no memory backs it.
func (d *Device) Alloc(bytes int64) (cuda.DevicePtr, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("dryrun: Alloc(%d): negative size", bytes)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	base := d.next * span
	d.blocks[base] = bytes
	d.live += bytes
	d.peak = max(d.peak, d.live)
	return cuda.DevicePtr(base), nil
}

// Free forgets a block.
func (d *Device) Free(p cuda.DevicePtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.blocks[uint64(p)]
	if !ok {
		return fmt.Errorf("dryrun: Free(%#x): not a live block", uint64(p))
	}
	d.live -= n
	delete(d.blocks, uint64(p))
	return nil
}

// Stats returns the bytes allocated now and at most.
func (d *Device) Stats() (live, peak int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.live, d.peak
}

// extent returns the bytes from p to the end of its block (0 for null or an
// address outside every block).
func (d *Device) extent(p cuda.DevicePtr) int64 {
	base := uint64(p) &^ (span - 1)
	n, ok := d.blocks[base]
	if !ok || p == 0 {
		return 0
	}
	return max(n-int64(uint64(p)-base), 0)
}

// CopyHtoDF32 counts an upload.
func (d *Device) CopyHtoDF32(_ cuda.DevicePtr, src []float32) error { return d.upload(len(src)) }

// CopyHtoDI32 counts an upload.
func (d *Device) CopyHtoDI32(_ cuda.DevicePtr, src []int32) error { return d.upload(len(src)) }

func (d *Device) upload(words int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.transfers.HtoD++
	d.transfers.HtoDBytes += 4 * int64(words)
	return nil
}

// CopyDtoHF32 counts a download and fills dst with zeros.
func (d *Device) CopyDtoHF32(dst []float32, _ cuda.DevicePtr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.transfers.DtoH++
	d.transfers.DtoHBytes += 4 * int64(len(dst))
	clear(dst)
	return nil
}

// CopyDtoD records a device-side copy.
func (d *Device) CopyDtoD(_, _ cuda.DevicePtr, bytes int64) error {
	d.record(Launch{Kernel: "copy device-to-device", Bytes: 2 * float64(bytes)})
	return nil
}

// MemsetD32 records a memset.
func (d *Device) MemsetD32(_ cuda.DevicePtr, _ uint32, n int64) error {
	d.record(Launch{Kernel: "memset", Bytes: 4 * float64(n)})
	return nil
}

// Synchronize returns at once.
func (d *Device) Synchronize() error { return nil }

// Function looks up an entry point of an embedded kernel file.
func (d *Device) Function(file, entry string) (*cuda.Function, error) {
	f, err := cuda.StandInFunction(file, entry)
	if err != nil {
		return nil, fmt.Errorf("dryrun: %w", err)
	}
	return f, nil
}

// Launch checks a launch as a GPU would (cuda.CheckLaunch: block, grid,
// shared memory, argument types), then records it and the work it asks for.
func (d *Device) Launch(f *cuda.Function, grid, block cuda.Dim3, shared int, args ...any) error {
	if err := cuda.CheckLaunch(f.Name, grid, block, shared, d.props.MaxSharedOptin, args); err != nil {
		return fmt.Errorf("dryrun: %w", err)
	}
	l := Launch{Kernel: f.Name, Grid: grid, Block: block}
	d.mu.Lock()
	l.FLOPs, l.Bytes = d.work(grid, args)
	d.mu.Unlock()
	d.record(l)
	return nil
}

func (d *Device) record(l Launch) {
	d.mu.Lock()
	attr := d.attribute
	d.mu.Unlock()
	if attr != nil {
		l.Caller = attr()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.launches = append(d.launches, l)
}

// work estimates a launch's FLOPs and DRAM bytes from its arguments.
func (d *Device) work(grid cuda.Dim3, args []any) (flops, bytes float64) {
	for _, a := range args {
		switch p := a.(type) {
		case cuda.GemmParams:
			z := float64(grid.Z)
			m, n, k := float64(p.M), float64(p.N), float64(p.K)
			c := m * n
			if p.Beta != 0 {
				c *= 2
			}
			return 2 * m * n * k * z, 4 * z * (m*k + k*n + c)
		case cuda.ConvParams:
			n, c, o := float64(p.N), float64(p.C), float64(p.O)
			g := float64(max(p.Groups, 1))
			taps := float64(p.KH) * float64(p.KW)
			out := n * o * float64(p.OH) * float64(p.OW)
			return 2 * out * c / g * taps, 4 * (n*c*float64(p.H)*float64(p.W) + o*c/g*taps + out)
		case cuda.MultiTensor:
			// Per element each tensor named is read once, and the first
			// (and, for Adam, the third and fourth) written: Adam's
			// p, g, m, v in, p, m, v out; the average's avg, src in, avg out.
			per := 12.0
			if p.D[0] != 0 {
				per = 28
			}
			for k := 0; k < int(p.Count); k++ {
				bytes += per * float64(p.N[k])
			}
			return 0, bytes
		}
	}
	// Each block once, from the lowest address the launch is given in it.
	most := map[uint64]int64{}
	for _, a := range args {
		if p, ok := a.(cuda.DevicePtr); ok && p != 0 {
			base := uint64(p) &^ (span - 1)
			most[base] = max(most[base], d.extent(p))
		}
	}
	for _, n := range most {
		bytes += float64(n)
	}
	return 0, bytes
}

// Launches returns the launches recorded since the last Reset.
func (d *Device) Launches() []Launch {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Launch(nil), d.launches...)
}

// Transfers returns the host-device copies counted since the last Reset.
func (d *Device) Transfers() Transfers {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.transfers
}

// Reset forgets the recorded launches and copies (not the memory).
func (d *Device) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.launches, d.transfers = nil, Transfers{}
}
