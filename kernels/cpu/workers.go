package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// rangeJob is work over the indices [0,n) that can be split into chunks.
// Kernels that must not allocate per call implement it on a pooled struct:
// unlike a closure handed to ParallelFor, a pointer in an interface does not
// escape to a fresh heap object.
type rangeJob interface{ runRange(lo, hi int) }

type workItem struct {
	job    rangeJob
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	workersMu      sync.Mutex
	workersStarted int
	workQueue      = make(chan workItem)
	// idleWorkers counts workers that will receive from workQueue without
	// doing anything else first; a sender reserves one before a blocking send.
	idleWorkers atomic.Int32
)

// ensureWorkers starts persistent worker goroutines up to n-1 (the caller is
// the n-th), once; they live for the process.
func ensureWorkers(n int) {
	workersMu.Lock()
	for ; workersStarted < n-1; workersStarted++ {
		idleWorkers.Add(1)
		go func() {
			for it := range workQueue {
				it.job.runRange(it.lo, it.hi)
				// Idle again before Done, so a caller woken by this Done can
				// hand the next phase to this worker at once.
				idleWorkers.Add(1)
				it.wg.Done()
			}
		}()
	}
	workersMu.Unlock()
}

func reserveIdleWorker() bool {
	for {
		n := idleWorkers.Load()
		if n <= 0 {
			return false
		}
		if idleWorkers.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// parallelRange is ParallelFor without per-call allocation: chunks go to idle
// persistent workers, and whatever finds no idle worker (all busy, e.g. a
// kernel called from inside another parallel loop) runs on the caller, so
// nesting cannot deadlock or oversubscribe. wg must be unused and is left so.
func parallelRange(n, cost int, job rangeJob, wg *sync.WaitGroup) {
	if n <= 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if maxW := n * max(cost, 1) / minGrain; maxW < workers {
		workers = maxW
	}
	workers = min(workers, n)
	if workers <= 1 {
		job.runRange(0, n)
		return
	}
	ensureWorkers(workers)
	chunk := (n + workers - 1) / workers
	// The first chunk is the caller's; it runs after the others are handed out.
	for lo := chunk; lo < n; lo += chunk {
		it := workItem{job: job, lo: lo, hi: min(lo+chunk, n), wg: wg}
		if reserveIdleWorker() {
			wg.Add(1)
			workQueue <- it
		} else {
			job.runRange(it.lo, it.hi)
		}
	}
	job.runRange(0, min(chunk, n))
	wg.Wait()
}
