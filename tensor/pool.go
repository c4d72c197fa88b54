package tensor

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// The CPU buffer pool keeps released buffers in power-of-two size classes so
// that steady-state training does not allocate. Buffers are handed back
// explicitly with Tensor.Release; nothing relies on finalizers.
var (
	poolClasses [48]sync.Pool
	liveBytes   atomic.Int64
	peakBytes   atomic.Int64
	// bufferBoxes recycles the *[]float32 boxes the classes hold buffers
	// in: boxing a buffer anew for every Put allocated once per released
	// tensor (a twentieth of a generator step's allocations).
	bufferBoxes = sync.Pool{New: func() any { return new([]float32) }}
)

func sizeClass(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

// allocBuffer returns a slice of length n, zeroed when zero is set.
func allocBuffer(n int, zero bool) []float32 {
	c := sizeClass(n)
	var buf []float32
	if v := poolClasses[c].Get(); v != nil {
		box := v.(*[]float32)
		buf = (*box)[:n]
		*box = nil
		bufferBoxes.Put(box)
		if zero {
			clear(buf)
		}
	} else {
		buf = make([]float32, n, 1<<c)
	}
	live := liveBytes.Add(int64(4 * cap(buf)))
	for {
		p := peakBytes.Load()
		if live <= p || peakBytes.CompareAndSwap(p, live) {
			break
		}
	}
	return buf
}

func freeBuffer(buf []float32) {
	if cap(buf) == 0 {
		return
	}
	c := sizeClass(cap(buf))
	if 1<<c != cap(buf) { // not ours (e.g. wrapped user data): let the GC have it
		return
	}
	liveBytes.Add(-int64(4 * cap(buf)))
	box := bufferBoxes.Get().(*[]float32)
	*box = buf[:cap(buf)]
	poolClasses[c].Put(box)
}

// MemoryStats reports the bytes of pooled CPU buffers in use now and at peak.
func MemoryStats() (live, peak int64) { return liveBytes.Load(), peakBytes.Load() }
