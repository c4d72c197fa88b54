package cpu

import (
	"sync"
	"sync/atomic"
	"testing"
)

type countJob struct {
	hits  []atomic.Int32
	inner bool // each chunk runs a nested parallelRange
}

func (j *countJob) runRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.hits[i].Add(1)
	}
	if j.inner {
		parallelRange(64, minGrain, &countJob{hits: make([]atomic.Int32, 64)})
	}
}

// Every index once, for any size and cost, also when many goroutines call
// at once and when chunks call parallelRange themselves (no deadlock).
func TestParallelRangeVisitsEachIndexOnce(t *testing.T) {
	var wg sync.WaitGroup
	for caller := 0; caller < 8; caller++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, n := range []int{1, 2, 3, 7, 64, 1000, 4097} {
				for _, cost := range []int{0, 1, minGrain / 8, minGrain, 1 << 20} {
					j := &countJob{hits: make([]atomic.Int32, n), inner: caller%2 == 0 && n < 100}
					parallelRange(n, cost, j)
					for i := range j.hits {
						if h := j.hits[i].Load(); h != 1 {
							t.Errorf("n %d cost %d: index %d visited %d times", n, cost, i, h)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestParallelRangeDoesNotAllocate(t *testing.T) {
	j := &countJob{hits: make([]atomic.Int32, 1<<12)}
	parallelRange(len(j.hits), minGrain, j) // start the workers
	if a := testing.AllocsPerRun(50, func() { parallelRange(len(j.hits), minGrain, j) }); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}
