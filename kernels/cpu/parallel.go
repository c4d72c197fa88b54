package cpu

import (
	"runtime"
	"sync"
)

// minGrain is the amount of scalar work below which splitting across goroutines
// costs more than it saves.
const minGrain = 1 << 14

// ParallelFor runs body over [0,n) split into contiguous chunks, one per
// worker. cost is the approximate work per index, used to avoid splitting
// small problems. Chunks are deterministic for a given n and GOMAXPROCS
// (bodies may sum per chunk, so the chunks fix their results), and every
// index is visited exactly once. The chunks run on the persistent workers
// (parallelRange's), the caller taking the first: no goroutine is started
// per call, and idle workers polling the queue take theirs without an OS
// wake-up.
func ParallelFor(n, cost int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if cost < 1 {
		cost = 1
	}
	if maxW := n * cost / minGrain; maxW < workers {
		workers = maxW
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		body(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	j := forJobs.Get().(*forJob)
	j.body, j.chunk, j.n = body, chunk, n
	runChunks(ceilDiv(n, chunk), j)
	j.body = nil
	forJobs.Put(j)
}

// sumChunks is the chunk count ParallelForSums fixes: two, the split
// ParallelFor makes on the 2-thread machines the demo's bundled models were
// trained on (their recipe test pins those bits).
const sumChunks = 2

// ParallelForSums is ParallelFor for bodies that sum per chunk, with chunks
// that do not depend on GOMAXPROCS: at most sumChunks (fewer when n or the
// work is small, as ParallelFor decides), run in parallel where there are
// threads and one after another where there are not. ParallelFor's chunks
// follow the thread count, so such sums, and a training run that uses them,
// came out different on every machine with another core count.
func ParallelForSums(n, cost int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := min(sumChunks, max(1, n*max(cost, 1)/minGrain), n)
	chunk := ceilDiv(n, chunks)
	ParallelFor(ceilDiv(n, chunk), chunk*max(cost, 1), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			body(c*chunk, min((c+1)*chunk, n))
		}
	})
}

// forJob runs ParallelFor's chunks: index c of its range is chunk c.
type forJob struct {
	body     func(lo, hi int)
	chunk, n int
}

func (j *forJob) runRange(lo, hi int) {
	for c := lo; c < hi; c++ {
		j.body(c*j.chunk, min((c+1)*j.chunk, j.n))
	}
}

var forJobs = sync.Pool{New: func() any { return new(forJob) }}
