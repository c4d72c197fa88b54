package cuda

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// CachingAllocator is a caching device allocator: freed blocks go to a free
// list per size class and are handed out again, so a training step that
// repeats the same shapes stops calling cuMemAlloc after the first step
// (BackendAllocs counts the calls, so that tests can hold it to that). It
// never frees on its own; ReleaseCached (or an out-of-memory retry) returns
// blocks to CUDA. Device uses one; NewCachingAllocator puts one in front of
// a stand-in device (the emulator), for the same accounting in tests.
//
// The backend functions are called without the lock held: they go through the
// device goroutine, which may itself be running a closure that allocates.
type CachingAllocator struct {
	alloc func(bytes int64) (DevicePtr, error)
	free  func(DevicePtr) error

	mu        sync.Mutex
	lists     map[int64][]DevicePtr // size class -> cached blocks
	live      map[DevicePtr]int64   // block -> size class
	liveBytes int64
	peak      int64
	cached    int64
	backend   int64 // successful calls of alloc
}

// NewCachingAllocator caches the blocks of a backend's alloc and free.
func NewCachingAllocator(alloc func(int64) (DevicePtr, error), free func(DevicePtr) error) *CachingAllocator {
	return &CachingAllocator{alloc: alloc, free: free, lists: map[int64][]DevicePtr{}, live: map[DevicePtr]int64{}}
}

// sizeClass rounds a request up so that blocks can be reused across slightly
// different sizes: four classes per power of two (waste under 25%) up to
// 64 MiB, then whole 2 MiB pages.
func sizeClass(n int64) int64 {
	const minClass = 512
	const big = 64 << 20
	const page = 2 << 20
	if n <= minClass {
		return minClass
	}
	if n > big {
		return (n + page - 1) / page * page
	}
	p := int64(1) << (bits.Len64(uint64(n-1)) - 1) // largest power of two below n
	step := p / 4
	return (n + step - 1) / step * step
}

// Alloc returns a block of at least bytes bytes.
func (a *CachingAllocator) Alloc(bytes int64) (DevicePtr, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("cuda: Alloc(%d): negative size", bytes)
	}
	c := sizeClass(bytes)
	a.mu.Lock()
	if l := a.lists[c]; len(l) > 0 {
		p := l[len(l)-1]
		a.lists[c] = l[:len(l)-1]
		a.cached -= c
		a.markLive(p, c)
		a.mu.Unlock()
		return p, nil
	}
	a.mu.Unlock()

	p, err := a.alloc(c)
	var ce *Error
	if err != nil && errors.As(err, &ce) && ce.Code == cudaErrorOutOfMemory {
		// Cached blocks of other classes may be what is missing.
		if rerr := a.ReleaseCached(); rerr != nil {
			return 0, rerr
		}
		p, err = a.alloc(c)
	}
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	a.backend++
	a.markLive(p, c)
	a.mu.Unlock()
	return p, nil
}

func (a *CachingAllocator) markLive(p DevicePtr, c int64) {
	a.live[p] = c
	a.liveBytes += c
	if a.liveBytes > a.peak {
		a.peak = a.liveBytes
	}
}

// Free returns a block to its size class's free list.
func (a *CachingAllocator) Free(p DevicePtr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.live[p]
	if !ok {
		return fmt.Errorf("cuda: Free(%#x): not a live block of this device", uint64(p))
	}
	delete(a.live, p)
	a.liveBytes -= c
	a.lists[c] = append(a.lists[c], p)
	a.cached += c
	return nil
}

// Stats returns the bytes currently handed out and the most ever handed out
// at once (both counted in size classes, which is what the GPU holds).
func (a *CachingAllocator) Stats() (live, peak int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.liveBytes, a.peak
}

// BackendAllocs returns how many blocks the backend has allocated: the
// requests the cache could not serve.
func (a *CachingAllocator) BackendAllocs() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.backend
}

// Cached returns the bytes held in free lists.
func (a *CachingAllocator) Cached() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cached
}

// ResetPeak sets the peak to the current live bytes, so that a benchmark can
// measure one phase.
func (a *CachingAllocator) ResetPeak() {
	a.mu.Lock()
	a.peak = a.liveBytes
	a.mu.Unlock()
}

// ReleaseCached returns every cached block to CUDA.
func (a *CachingAllocator) ReleaseCached() error {
	a.mu.Lock()
	var blocks []DevicePtr
	for c, l := range a.lists {
		blocks = append(blocks, l...)
		delete(a.lists, c)
	}
	a.cached = 0
	a.mu.Unlock()
	var first error
	for _, p := range blocks {
		if err := a.free(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// releaseAll frees cached and live blocks; only for Device.Close.
func (a *CachingAllocator) releaseAll() error {
	a.mu.Lock()
	for p, c := range a.live {
		a.lists[c] = append(a.lists[c], p)
		delete(a.live, p)
	}
	a.liveBytes = 0
	a.mu.Unlock()
	return a.ReleaseCached()
}
