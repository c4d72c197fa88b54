package tensor

import "github.com/lafite-go/lafite/kernels/cuda"

// WithCachingAllocator puts kernels/cuda's caching allocator, the one a
// driver device allocates through, in front of a stand-in backend (the
// emulator, the host simulator), which otherwise allocates per request. Tests
// then see the card's memory behaviour: blocks come back uncleared, and
// CUDADeviceAllocs counts what the cache could not serve.
func WithCachingAllocator(b CUDABackend) CUDABackend {
	return cachingBackend{CUDABackend: b, cache: cuda.NewCachingAllocator(b.Alloc, b.Free)}
}

type cachingBackend struct {
	CUDABackend
	cache *cuda.CachingAllocator
}

func (c cachingBackend) Alloc(bytes int64) (cuda.DevicePtr, error) { return c.cache.Alloc(bytes) }
func (c cachingBackend) Free(p cuda.DevicePtr) error               { return c.cache.Free(p) }
func (c cachingBackend) Stats() (live, peak int64)                 { return c.cache.Stats() }
func (c cachingBackend) BackendAllocs() int64                      { return c.cache.BackendAllocs() }

// CUDADeviceAllocs returns how many blocks the GPU's caching allocator has
// taken from the device (cuMemAlloc calls, or the stand-in's allocations
// behind WithCachingAllocator); ok is false where nothing counts them (no GPU
// opened, or a stand-in allocating per request).
func CUDADeviceAllocs() (n int64, ok bool) {
	gpuMu.Lock()
	g := gpuCur
	gpuMu.Unlock()
	if g == nil {
		return 0, false
	}
	if g.dev != nil {
		return g.dev.BackendAllocs(), true
	}
	if c, is := g.b.(countingBackend).CUDABackend.(interface{ BackendAllocs() int64 }); is {
		return c.BackendAllocs(), true
	}
	return 0, false
}
