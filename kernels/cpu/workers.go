package cpu

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rangeJob is work over the indices [0,n) that can be split into chunks, in
// any partition and order. Kernels that must not allocate per call implement
// it on a pooled struct: unlike a closure handed to ParallelFor, a pointer in
// an interface does not escape to a fresh heap object.
type rangeJob interface{ runRange(lo, hi int) }

// rangeRun is one parallelRange call: participants claim chunks from next
// until none are left, so a thread slowed down (another process on its core)
// takes fewer chunks instead of holding everyone up at the end.
type rangeRun struct {
	job      rangeJob
	n, chunk int
	chunks   int64
	next     atomic.Int64
	pending  atomic.Int32 // workers handed this run that have not finished it
	wg       sync.WaitGroup
}

func (r *rangeRun) work() {
	for {
		c := r.next.Add(1) - 1
		if c >= r.chunks {
			return
		}
		lo := int(c) * r.chunk
		r.job.runRange(lo, min(lo+r.chunk, r.n))
	}
}

var (
	rangeRuns      = sync.Pool{New: func() any { return new(rangeRun) }}
	workersMu      sync.Mutex
	workersStarted int
	// workQueue is buffered so that a send to a polling worker (nextRun)
	// never blocks; senders reserve an idle worker first, so it holds at
	// most one run per worker.
	workQueue = make(chan *rangeRun, 1024)
	// idleWorkers counts workers that will receive from workQueue without
	// doing anything else first; a sender reserves one before it sends.
	idleWorkers atomic.Int32
)

// ensureWorkers starts persistent worker goroutines up to n-1 (the caller is
// the n-th), once; they live for the process.
func ensureWorkers(n int) {
	workersMu.Lock()
	for ; workersStarted < n-1; workersStarted++ {
		idleWorkers.Add(1)
		go func() {
			for {
				r := nextRun()
				r.work()
				// Idle again before Done, so a caller woken by this Done can
				// hand the next phase to this worker at once.
				idleWorkers.Add(1)
				r.pending.Add(-1)
				r.wg.Done()
			}
		}()
	}
	workersMu.Unlock()
}

// spinWindow is how long an idle participant keeps polling (idlePoll)
// before it blocks: a worker waiting for its next run,
// a caller waiting for the workers' last chunks. A training step runs its
// kernels with gaps of microseconds to a few hundred (the autograd work
// between them); a blocked worker is woken through the OS (a futex wake-up
// on the sender's path, then the thread's wake-up latency), a polling one
// takes the next run at once. At 50 µs one dispatch in ten of the demo's
// step found its worker asleep and the step took 15-24% longer than at
// 1 ms (bench/NOTES.md, v17). LAFITE_CPU_SPIN sets it: a Go duration ("200us"),
// 0 to block at once on a machine shared with other work. Atomic, as the
// workers read it while tests set it.
var spinWindow = newAtomicDuration(spinSetting(os.Getenv("LAFITE_CPU_SPIN")))

// atomicDuration is a time.Duration read and written atomically.
type atomicDuration struct{ ns atomic.Int64 }

func newAtomicDuration(d time.Duration) *atomicDuration {
	a := &atomicDuration{}
	a.Store(d)
	return a
}

func (a *atomicDuration) Load() time.Duration   { return time.Duration(a.ns.Load()) }
func (a *atomicDuration) Store(d time.Duration) { a.ns.Store(int64(d)) }

const defaultSpinWindow = time.Millisecond

// spinSetting reads LAFITE_CPU_SPIN; empty or malformed gives the default
// (malformed with a warning), a negative duration 0.
func spinSetting(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultSpinWindow
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lafite: LAFITE_CPU_SPIN=%s ignored (want a duration such as 200us or 1ms): %v\n", v, err)
		return defaultSpinWindow
	}
	return max(d, 0)
}

// An idle participant polls state it can read without a lock (the queue's
// length, a run's pending count) with a PAUSE between polls, reads the
// clock every spinPolls polls and yields to the Go scheduler every
// yieldPolls, so that many idle workers on a large machine neither contend
// for the channel's or the scheduler's lock nor keep the other goroutines
// of their thread waiting for long.
const (
	spinPolls  = 64
	yieldPolls = 1024
)

// A spin is only worth its core while the process has the machine to
// itself: with more runnable threads than cores (two training jobs at once,
// test binaries in parallel) a spinning worker takes the time slice that a
// thread with work waits for; a fixed 1 ms window made two 2-thread demo
// harnesses on 2 cores 1.8 times slower than 25-50 µs of polling did
// (bench/NOTES.md, v17). A poll loop whose thread was descheduled sees a
// gap between two readings of the clock (64 polls take a few µs): it stops
// at once, and for contendedFor every spin is cut to contendedSpin.
const (
	preemptedGap  = 200 * time.Microsecond
	contendedFor  = 250 * time.Millisecond
	contendedSpin = 30 * time.Microsecond
)

// contendedUntil is when the cut ends, in nanoseconds since spinEpoch (the
// monotonic clock).
var (
	contendedUntil atomic.Int64
	spinEpoch      = time.Now()
)

// spinner is one poll loop's clock: its deadline, and the last reading.
type spinner struct{ last, deadline time.Time }

func startSpin() spinner {
	now := time.Now()
	w := spinWindow.Load()
	if int64(now.Sub(spinEpoch)) < contendedUntil.Load() {
		w = min(w, contendedSpin)
	}
	return spinner{last: now, deadline: now.Add(w)}
}

// expired reads the clock: true once the window is over (at the first
// reading for a window of 0), or at once when the thread was off its core
// since the last reading (or other goroutines held it through a yield,
// which a spin would also keep waiting).
func (s *spinner) expired() bool {
	now := time.Now()
	if now.Sub(s.last) > preemptedGap {
		contendedUntil.Store(int64(now.Sub(spinEpoch) + contendedFor))
		return true
	}
	s.last = now
	return !now.Before(s.deadline)
}

// nextRun is the next run handed to this worker.
func nextRun() *rangeRun {
	spin := startSpin()
	for i := 0; ; i++ {
		if len(workQueue) > 0 {
			select {
			case r := <-workQueue:
				return r
			default: // another worker took it
			}
		}
		if i%spinPolls == 0 && spin.expired() {
			return <-workQueue
		}
		idlePoll(i)
	}
}

// awaitWorkers returns once r's workers have all finished it: polling for
// up to spinWindow (their last chunks usually end within microseconds of
// the caller's), then blocking.
func (r *rangeRun) awaitWorkers() {
	if r.pending.Load() > 0 {
		spin := startSpin()
		for i := 0; r.pending.Load() > 0; i++ {
			if i%spinPolls == 0 && spin.expired() {
				break
			}
			idlePoll(i)
		}
	}
	r.wg.Wait()
}

// idlePoll waits between two polls: a PAUSE, and every yieldPolls polls a
// turn for the other goroutines of this thread.
func idlePoll(i int) {
	if i%yieldPolls == yieldPolls-1 {
		runtime.Gosched()
		return
	}
	spinPause()
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

// funcJob runs a closure as a rangeJob.
type funcJob func(lo, hi int)

func (f funcJob) runRange(lo, hi int) { f(lo, hi) }

// ParallelRange runs body over [0,n) in chunks on the persistent workers,
// as the kernels here do (see parallelRange): for elementwise loops outside
// this package. Chunks never split an index, so a body whose indices are
// independent gives the sequential loop's result bit for bit.
func ParallelRange(n, cost int, body func(lo, hi int)) { parallelRange(n, cost, funcJob(body)) }

// chunksPerWorker is how finely parallelRange splits work, so that chunks can
// migrate to whichever thread is running.
const chunksPerWorker = 4

// parallelRange is ParallelFor without per-call allocation and with dynamic
// balance: the caller and every idle persistent worker claim chunks of
// [0,n) until all are done. With no idle worker (all busy, e.g. a kernel
// called from inside another parallel loop) the caller does everything
// itself, so nesting cannot deadlock or oversubscribe. cost is the work per
// index in ParallelFor's units.
func parallelRange(n, cost int, job rangeJob) {
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
	// Chunks no smaller than a grain of work.
	chunks := min(n, workers*chunksPerWorker, max(workers, n*max(cost, 1)/minGrain))
	dispatch(n, ceilDiv(n, chunks), workers, job)
}

// runChunks runs job's indices [0,n) one per chunk, on up to n participants
// (the caller and idle workers).
func runChunks(n int, job rangeJob) { dispatch(n, 1, min(n, runtime.GOMAXPROCS(0)), job) }

// dispatch runs job over [0,n) in chunks of chunk indices, claimed by the
// caller and up to workers-1 idle persistent workers.
func dispatch(n, chunk, workers int, job rangeJob) {
	ensureWorkers(workers)
	r := rangeRuns.Get().(*rangeRun)
	r.job, r.n = job, n
	r.chunk = chunk
	r.chunks = int64(ceilDiv(n, r.chunk))
	r.next.Store(0)
	for w := 1; w < workers && reserveIdleWorker(); w++ {
		r.wg.Add(1)
		r.pending.Add(1)
		workQueue <- r
	}
	r.work()
	r.awaitWorkers()
	r.job = nil
	rangeRuns.Put(r)
}
