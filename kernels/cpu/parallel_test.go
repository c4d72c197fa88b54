package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// ParallelForSums hands out the same chunks whatever GOMAXPROCS is, and
// every index exactly once.
func TestParallelForSumsChunksIgnoreThreadCount(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct{ n, cost int }{{16, 1 << 20}, {7, 1 << 20}, {1, 1 << 20}, {16, 1}, {100, 300}, {3, minGrain}} {
		var want []string
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			var mu sync.Mutex
			var got []string
			seen := make([]int, c.n)
			ParallelForSums(c.n, c.cost, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, fmt.Sprintf("[%d,%d)", lo, hi))
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			slices.Sort(got)
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("n %d cost %d, %d threads: index %d visited %d times", c.n, c.cost, procs, i, s)
				}
			}
			if want == nil {
				want = got
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("n %d cost %d: chunks %v with %d threads, %v with 1", c.n, c.cost, got, procs, want)
			}
		}
	}
}

// The weight gradient of a convolution small enough for the references'
// schedule (the demo's) gives the same bits on 1, 2 and 5 threads, on
// every variant: the recipe test's pinned hashes hold on any machine.
func TestSmallConvWeightGradIgnoresThreadCount(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	prev := ActiveVariant()
	defer UseVariant(prev)
	g := geom(16, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)
	r := rand.New(rand.NewPCG(11, 12))
	x, gy := randSlice(r, g.N*g.Cin*g.H*g.W), randSlice(r, g.N*g.Cout*g.OH*g.OW)
	nw := g.Cout * g.Cin * g.KH * g.KW
	for _, variant := range Variants() {
		if err := UseVariant(variant); err != nil {
			t.Fatal(err)
		}
		var want []float32
		for _, procs := range []int{2, 1, 5} {
			runtime.GOMAXPROCS(procs)
			gw := make([]float32, nw)
			Conv2dWeightGrad(g, x, gy, gw)
			if want == nil {
				want = gw
				continue
			}
			for i := range want {
				if gw[i] != want[i] {
					t.Fatalf("%s: element %d = %v on %d threads, %v on 2", variant, i, gw[i], procs, want[i])
				}
			}
		}
	}
}
