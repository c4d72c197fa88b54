package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ErrClosed is returned by a Device after Close.
var ErrClosed = errors.New("cuda: device closed")

// Device is one GPU with its primary context and one stream. All driver calls
// run on a single goroutine locked to its OS thread, because a CUDA context is
// current per thread; the methods route through Do and may be called from any
// goroutine. Kernel launches, device copies and memsets are asynchronous on
// the device's stream; Synchronize waits for them.
type Device struct {
	Props DeviceProps

	drv    *driver
	dev    int32
	ctx    uintptr
	stream uintptr
	tid    int // OS thread of the owner goroutine

	work    chan func()
	queued  atomic.Pointer[error] // first error of enqueued work, not yet reported
	quit    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool
	once    sync.Once

	mem *CachingAllocator

	modMu   sync.Mutex
	modules map[string]*Module
	target  *Target
	cache   string
}

// Open opens device ordinal. Without a driver or GPU the error wraps
// ErrNoDriver or ErrNoDevice, whose text is the one line to show the user.
func Open(ordinal int) (*Device, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, err
	}
	n, err := DeviceCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrNoDevice
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d does not exist (%d devices)", ordinal, n)
	}
	props, dev, err := d.deviceProps(ordinal)
	if err != nil {
		return nil, err
	}
	dv := &Device{
		Props: props, drv: d, dev: dev,
		work: make(chan func(), workQueue), quit: make(chan struct{}), stopped: make(chan struct{}),
		modules: map[string]*Module{},
	}
	dv.mem = NewCachingAllocator(dv.rawAlloc, dv.rawFree)
	ready := make(chan error, 1)
	go dv.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return dv, nil
}

// loop is the owner goroutine: it makes the context current once and then
// runs submitted work until Close.
func (d *Device) loop(ready chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
	defer close(d.stopped)
	d.tid = gettid()
	err := d.drv.check("cuDevicePrimaryCtxRetain", d.drv.cuDevicePrimaryCtxRetain(&d.ctx, d.dev))
	if err == nil {
		err = d.drv.check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx))
		if err == nil {
			// Non-blocking: no implicit synchronisation with the legacy stream.
			err = d.drv.check("cuStreamCreate", d.drv.cuStreamCreate(&d.stream, 1))
		}
		if err != nil {
			d.drv.cuDevicePrimaryCtxRelease(d.dev)
		}
	}
	ready <- err
	if err != nil {
		return
	}
	for {
		select {
		case f := <-d.work:
			f()
		case <-d.quit:
			return
		}
	}
}

// Do runs f on the device's goroutine, where the context is current, and
// returns its error. Calls from inside f run directly, so device methods may
// be used within f, except Module and Function, which compile under a lock
// and must be called outside Do. A panic in f is returned as an error.
func (d *Device) Do(f func() error) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if d.tid != 0 && gettid() == d.tid {
		return f() // already on the owner thread (only the owner runs there)
	}
	done := make(chan error, 1)
	job := func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("cuda: panic on device goroutine: %v", r)
			}
		}()
		done <- f()
	}
	select {
	case d.work <- job:
		err := <-done
		if err == nil {
			err = d.takeQueued() // work queued before this ran first
		}
		return err
	case <-d.stopped:
		return ErrClosed
	}
}

// workQueue is how many enqueued calls may wait for the owner goroutine
// before a caller blocks.
const workQueue = 4096

// enqueue runs f on the owner goroutine without waiting for it. It is for
// stream work (launches, device-to-device copies, memsets, event records),
// which the GPU runs asynchronously anyway: handing a call to the owner
// thread and waiting for its answer costs two thread wake-ups, tens of
// microseconds, more than most kernels of a training step run (measured as
// about 33 us added to each timed op on an H200 host, and 38 us for the
// bare hand-off on a 2-core VM). The first error of enqueued work is
// returned by the next Do or enqueue.
func (d *Device) enqueue(f func() error) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if err := d.takeQueued(); err != nil {
		return err
	}
	if d.tid != 0 && gettid() == d.tid {
		return f()
	}
	job := func() {
		defer func() {
			if r := recover(); r != nil {
				d.keepQueued(fmt.Errorf("cuda: panic on device goroutine: %v", r))
			}
		}()
		if err := f(); err != nil {
			d.keepQueued(err)
		}
	}
	select {
	case d.work <- job:
		return nil
	case <-d.stopped:
		return ErrClosed
	}
}

func (d *Device) keepQueued(err error) { d.queued.CompareAndSwap(nil, &err) }

func (d *Device) takeQueued() error {
	if p := d.queued.Swap(nil); p != nil {
		return *p
	}
	return nil
}

// Close waits for queued work, frees every block of the allocator (live ones
// too: they die with the context), unloads modules and releases the context.
func (d *Device) Close() error {
	var first error
	d.once.Do(func() {
		keep := func(err error) {
			if err != nil && first == nil {
				first = err
			}
		}
		keep(d.Synchronize())
		keep(d.mem.releaseAll())
		d.modMu.Lock()
		mods := d.modules
		d.modules = map[string]*Module{}
		d.modMu.Unlock()
		for _, m := range mods {
			keep(m.unload())
		}
		keep(d.Do(func() error {
			err := d.drv.check("cuStreamDestroy_v2", d.drv.cuStreamDestroy(d.stream))
			if e := d.drv.check("cuDevicePrimaryCtxRelease_v2", d.drv.cuDevicePrimaryCtxRelease(d.dev)); err == nil {
				err = e
			}
			return err
		}))
		d.closed.Store(true)
		close(d.quit)
		<-d.stopped
	})
	return first
}

// Stream returns the device's CUstream handle, for code that binds more of
// the driver API.
func (d *Device) Stream() uintptr { return d.stream }

// Synchronize waits until all work queued on the device's stream is done;
// errors of earlier asynchronous launches surface here.
func (d *Device) Synchronize() error {
	return d.Do(func() error {
		return d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
	})
}

// MemInfo returns the free and total device memory as the driver sees it.
func (d *Device) MemInfo() (free, total int64, err error) {
	err = d.Do(func() error {
		var f, t uintptr
		if err := d.drv.check("cuMemGetInfo_v2", d.drv.cuMemGetInfo(&f, &t)); err != nil {
			return err
		}
		free, total = int64(f), int64(t)
		return nil
	})
	return free, total, err
}

func (d *Device) rawAlloc(bytes int64) (DevicePtr, error) {
	var p DevicePtr
	err := d.Do(func() error {
		return d.drv.check("cuMemAlloc_v2", d.drv.cuMemAlloc(&p, uintptr(bytes)))
	})
	return p, err
}

func (d *Device) rawFree(p DevicePtr) error {
	return d.Do(func() error { return d.drv.check("cuMemFree_v2", d.drv.cuMemFree(p)) })
}

// Alloc returns device memory of at least bytes bytes from the caching
// allocator. The memory is not cleared. Release it with Free.
func (d *Device) Alloc(bytes int64) (DevicePtr, error) { return d.mem.Alloc(bytes) }

// Free returns a block from Alloc to the allocator's cache. Work already
// queued on the device stream that uses the block still runs first, because
// everything runs on that one stream in order.
func (d *Device) Free(p DevicePtr) error { return d.mem.Free(p) }

// Stats returns live and peak bytes handed out by the allocator.
func (d *Device) Stats() (live, peak int64) { return d.mem.Stats() }

// BackendAllocs returns how many times the allocator called cuMemAlloc.
func (d *Device) BackendAllocs() int64 { return d.mem.BackendAllocs() }

// CachedBytes returns the bytes held by the allocator's free lists.
func (d *Device) CachedBytes() int64 { return d.mem.Cached() }

// ResetPeak makes the peak equal to the live bytes now.
func (d *Device) ResetPeak() { d.mem.ResetPeak() }

// ReleaseCached returns the allocator's free blocks to CUDA.
func (d *Device) ReleaseCached() error { return d.mem.ReleaseCached() }

// CopyHtoD copies host bytes to the device. It returns once src may be
// reused (the driver stages pageable memory before returning).
func (d *Device) CopyHtoD(dst DevicePtr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return d.Do(func() error {
		err := d.drv.check("cuMemcpyHtoDAsync_v2", d.drv.cuMemcpyHtoDAsync(dst, &src[0], uintptr(len(src)), d.stream))
		runtime.KeepAlive(src)
		return err
	})
}

// CopyDtoH copies device bytes to the host, after all queued work.
func (d *Device) CopyDtoH(dst []byte, src DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.Do(func() error {
		err := d.drv.check("cuMemcpyDtoHAsync_v2", d.drv.cuMemcpyDtoHAsync(&dst[0], src, uintptr(len(dst)), d.stream))
		if err == nil {
			// Go memory is pageable, so the copy is already complete; the
			// sync makes that explicit and surfaces earlier launch errors.
			err = d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
		}
		runtime.KeepAlive(dst)
		return err
	})
}

// CopyHtoDF32 copies float32 values to the device.
func (d *Device) CopyHtoDF32(dst DevicePtr, src []float32) error {
	if len(src) == 0 {
		return nil
	}
	return d.CopyHtoD(dst, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 4*len(src)))
}

// CopyDtoHF32 copies float32 values from the device.
func (d *Device) CopyDtoHF32(dst []float32, src DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.CopyDtoH(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), src)
}

// CopyHtoDI32 copies int32 values (indices) to the device.
func (d *Device) CopyHtoDI32(dst DevicePtr, src []int32) error {
	if len(src) == 0 {
		return nil
	}
	return d.CopyHtoD(dst, unsafe.Slice((*byte)(unsafe.Pointer(&src[0])), 4*len(src)))
}

// CopyDtoD queues a device-to-device copy.
func (d *Device) CopyDtoD(dst, src DevicePtr, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	return d.enqueue(func() error {
		return d.drv.check("cuMemcpyDtoDAsync_v2", d.drv.cuMemcpyDtoDAsync(dst, src, uintptr(bytes), d.stream))
	})
}

// MemsetD32 queues setting n 32-bit words to v (use math.Float32bits for a
// float fill).
func (d *Device) MemsetD32(dst DevicePtr, v uint32, n int64) error {
	if n == 0 {
		return nil
	}
	return d.enqueue(func() error {
		return d.drv.check("cuMemsetD32Async", d.drv.cuMemsetD32Async(dst, v, uintptr(n), d.stream))
	})
}

// Event is a CUDA event on the device's stream, for timing.
type Event struct {
	d *Device
	h uintptr
}

// NewEvent creates a timing event.
func (d *Device) NewEvent() (*Event, error) {
	e := &Event{d: d}
	err := d.Do(func() error { return d.drv.check("cuEventCreate", d.drv.cuEventCreate(&e.h, 0)) })
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Record queues the event on the device's stream.
func (e *Event) Record() error {
	return e.d.enqueue(func() error { return e.d.drv.check("cuEventRecord", e.d.drv.cuEventRecord(e.h, e.d.stream)) })
}

// Synchronize waits for the event.
func (e *Event) Synchronize() error {
	return e.d.Do(func() error { return e.d.drv.check("cuEventSynchronize", e.d.drv.cuEventSynchronize(e.h)) })
}

// Destroy releases the event.
func (e *Event) Destroy() error {
	return e.d.Do(func() error { return e.d.drv.check("cuEventDestroy_v2", e.d.drv.cuEventDestroy(e.h)) })
}

// ElapsedMs returns the milliseconds between two recorded events, after
// waiting for end.
func ElapsedMs(start, end *Event) (float32, error) {
	var ms float32
	err := end.d.Do(func() error {
		if err := end.d.drv.check("cuEventSynchronize", end.d.drv.cuEventSynchronize(end.h)); err != nil {
			return err
		}
		return end.d.drv.check("cuEventElapsedTime", end.d.drv.cuEventElapsedTime(&ms, start.h, end.h))
	})
	return ms, err
}

// Time runs f (which queues work) between two events and returns the GPU
// time it took in milliseconds.
func (d *Device) Time(f func() error) (float32, error) {
	a, err := d.NewEvent()
	if err != nil {
		return 0, err
	}
	defer a.Destroy()
	b, err := d.NewEvent()
	if err != nil {
		return 0, err
	}
	defer b.Destroy()
	if err := a.Record(); err != nil {
		return 0, err
	}
	if err := f(); err != nil {
		return 0, err
	}
	if err := b.Record(); err != nil {
		return 0, err
	}
	return ElapsedMs(a, b)
}
