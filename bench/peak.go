package bench

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// FMAPeak is the machine's measured single-precision FMA throughput: the
// ceiling a compute-bound kernel can reach, which records are a fraction of.
type FMAPeak struct {
	ISA            string  // instruction set of the fastest loop: avx512, avx2 or scalar
	PerCoreGFLOPS  float64 // one goroutine locked to one thread
	AllCoresGFLOPS float64 // GOMAXPROCS such goroutines at once
	Cores          int
}

// fmaLoop runs iters iterations of an FMA throughput loop doing flopsPerIter.
type fmaLoop struct {
	isa          string
	flopsPerIter float64
	run          func(iters int)
}

var (
	peakOnce sync.Once
	peak     FMAPeak
)

// MeasureFMAPeak times every FMA loop this CPU can run, single-threaded and on
// all cores, and keeps the best; the result is measured once per process.
func MeasureFMAPeak() FMAPeak {
	peakOnce.Do(func() {
		cores := runtime.GOMAXPROCS(0)
		for _, l := range fmaLoops() {
			one, all := measureLoop(l, 1), measureLoop(l, cores)
			if all > peak.AllCoresGFLOPS {
				peak = FMAPeak{ISA: l.isa, PerCoreGFLOPS: one, AllCoresGFLOPS: all, Cores: cores}
			}
		}
	})
	return peak
}

// measureLoop returns the best GFLOP/s of several ~20 ms rounds on workers
// threads; the best, not the median, because the loop has no memory traffic
// and anything slower is interference.
func measureLoop(l fmaLoop, workers int) float64 {
	iters := 1 << 16
	for { // calibrate to about 20 ms per round
		t := time.Now()
		l.run(iters)
		if d := time.Since(t); d > 5*time.Millisecond {
			iters = int(float64(iters) * float64(20*time.Millisecond) / float64(d))
			break
		}
		iters *= 4
	}
	best := 0.0
	for round := 0; round < 7; round++ {
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				l.run(iters)
			}()
		}
		wg.Wait()
		gf := float64(workers) * float64(iters) * l.flopsPerIter / time.Since(start).Seconds() / 1e9
		best = max(best, gf)
	}
	return best
}

// scalarFMALoop is the portable fallback: eight independent float32 chains.
func scalarFMALoop(iters int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 float32
	x, y := float32(0.999), float32(1e-3)
	for i := 0; i < iters; i++ {
		a0 = a0*x + y
		a1 = a1*x + y
		a2 = a2*x + y
		a3 = a3*x + y
		a4 = a4*x + y
		a5 = a5*x + y
		a6 = a6*x + y
		a7 = a7*x + y
	}
	sink.Store(math.Float32bits(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7))
}

// sink keeps the scalar loop's result observable, so that no compiler may
// drop the loop; atomic, since every core's loop writes it at once.
var sink atomic.Uint32

var copyBWOnce = sync.OnceValue(func() float64 {
	// Buffers well beyond the last-level cache, copied by every core at once;
	// bytes count the read and the write.
	const perWorker = 32 << 20
	workers := runtime.GOMAXPROCS(0)
	src := make([]byte, workers*perWorker)
	dst := make([]byte, workers*perWorker)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src) // fault the pages in before timing
	best := 0.0
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				copy(dst[w*perWorker:(w+1)*perWorker], src[w*perWorker:(w+1)*perWorker])
			}()
		}
		wg.Wait()
		best = max(best, 2*float64(len(src))/time.Since(start).Seconds()/1e9)
	}
	return best
})

// MeasureCopyBandwidth is the machine's memory copy bandwidth in GB/s (read
// plus write, all cores), the ceiling for memory-bound workloads; measured
// once per process.
func MeasureCopyBandwidth() float64 { return copyBWOnce() }
