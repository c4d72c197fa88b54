package cpu

import (
	"runtime"
	"sync"
)

// minGrain is the amount of scalar work below which splitting across goroutines
// costs more than it saves.
const minGrain = 1 << 14

// ParallelFor runs body over [0,n) split into contiguous chunks, one goroutine per
// chunk. cost is the approximate work per index, used to avoid spawning
// goroutines for small problems. Chunks are deterministic for a given n and
// GOMAXPROCS, and every index is visited exactly once.
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
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			body(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}
