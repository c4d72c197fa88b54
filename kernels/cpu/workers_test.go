package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

func TestSpinSetting(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", defaultSpinWindow}, {"0", 0}, {" 200us ", 200 * time.Microsecond}, {"2ms", 2 * time.Millisecond},
		{"-1ms", 0}, {"fast", defaultSpinWindow}, {"100", defaultSpinWindow},
	} {
		if got := spinSetting(c.in); got != c.want {
			t.Errorf("spinSetting(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// meetJob's two chunks each wait until both have started: it completes only
// if a worker runs one of them while the caller runs the other.
type meetJob struct {
	arrived atomic.Int32
	missed  atomic.Bool
}

func (j *meetJob) runRange(lo, hi int) {
	j.arrived.Add(1)
	deadline := time.Now().Add(5 * time.Second)
	for j.arrived.Load() < 2 {
		if time.Now().After(deadline) {
			j.missed.Store(true)
			return
		}
		runtime.Gosched()
	}
}

// A worker takes part in the next run whether it was still polling or had
// gone to sleep: with no spin window (it blocks at once) and with the
// default one, after gaps shorter and longer than the window.
func TestIdleWorkerJoinsTheNextRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer spinWindow.Store(spinWindow.Load())
	for _, window := range []time.Duration{0, defaultSpinWindow} {
		spinWindow.Store(window)
		for _, gap := range []time.Duration{0, 100 * time.Microsecond, 3 * defaultSpinWindow} {
			for call := range 20 {
				j := &meetJob{}
				dispatch(2, 1, 2, j)
				if j.missed.Load() {
					t.Fatalf("window %v, gap %v, call %d: no worker joined the run", window, gap, call)
				}
				time.Sleep(gap)
			}
		}
	}
}

// A poll loop that finds a gap in its clock readings (its thread was off
// the core) stops, and the spins after it are cut to contendedSpin.
func TestSpinnerBacksOffAfterAGap(t *testing.T) {
	defer func(w time.Duration, c int64) { spinWindow.Store(w); contendedUntil.Store(c) }(spinWindow.Load(), contendedUntil.Load())
	spinWindow.Store(time.Hour)
	contendedUntil.Store(0)
	s := startSpin()
	if got := s.deadline.Sub(s.last); got != time.Hour {
		t.Fatalf("uncontended window %v, want the spin window", got)
	}
	running := false
	for range 10 { // a reading may itself land after a gap on a busy machine
		if !s.expired() {
			running = true
			break
		}
		contendedUntil.Store(0)
	}
	if !running {
		t.Fatal("a spin of an hour expired at once ten times")
	}
	s.last = s.last.Add(-2 * preemptedGap)
	if !s.expired() {
		t.Fatal("a gap in the clock readings did not stop the spin")
	}
	next := startSpin()
	if got := next.deadline.Sub(next.last); got != contendedSpin {
		t.Fatalf("window after a gap %v, want %v", got, contendedSpin)
	}
}
