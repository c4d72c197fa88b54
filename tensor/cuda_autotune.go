package tensor

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// Autotuning: where the engine has more than one correct way to run an op
// (direct or Winograd convolutions, GEMM main loops, upfirdn2d kernels), the
// first call with a given shape times each way on the card and every later
// call with that shape takes the fastest. The choice then follows the card
// it runs on rather than a rule written without one (PyTorch's
// cudnn.benchmark does the same for cuDNN's algorithms).
//
// It is on by default on a driver device and off on the emulator and the
// host simulator, whose timings say nothing about a GPU;
// LAFITE_CUDA_AUTOTUNE=0 or 1 overrides both. Settings that force a variant
// (SetCUDAConvTile, SetCUDAGemmKernel, SetCUDAUpfirdnTiled and their
// LAFITE_CUDA_* variables) take precedence, so A/B timings and checks stay
// deterministic.
//
// A candidate must leave the same result whichever of them ran last and must
// not read its output, so calls that accumulate into their output (a GEMM
// with beta != 0) only reuse a choice made for the same shape without it.

// AutotuneChoice is one tuned shape: the candidates' times and the winner.
type AutotuneChoice struct {
	Op     string             `json:"op"`    // e.g. "conv forward", "gemm", "upfirdn2d"
	Shape  string             `json:"shape"` // the key the choice is cached under
	Chosen string             `json:"chosen"`
	Rule   string             `json:"rule"` // what the rules would have run (tuning off)
	Ms     map[string]float64 `json:"ms"`   // best of the timed runs per candidate
	// Failed: candidates that panicked (a launch the card refused, say),
	// with the message; they are never chosen.
	Failed map[string]string `json:"failed,omitempty"`
}

// Autotune modes: the device's default, or forced on or off.
const (
	autotuneDefault int32 = iota
	autotuneOn
	autotuneOff
)

type autotuner struct {
	mode    atomic.Int32
	mu      sync.Mutex
	choices map[string]*AutotuneChoice // by op + "|" + shape
	order   []string                   // keys in the order they were tuned
}

var tuner = autotuner{choices: map[string]*AutotuneChoice{}}

// autotuneClock, when set (tests), replaces each measured time: it gets the
// op, shape, candidate and the measured milliseconds and returns the time to
// compare.
var autotuneClock func(op, shape, candidate string, ms float64) float64

// autotuneRuns is how often each candidate runs while tuned: once to warm
// up (compilation, workspaces, nested choices), then timed, best kept.
const autotuneRuns = 3

// SetCUDAAutotune turns autotuning on or off for every later call,
// overriding the device's default and LAFITE_CUDA_AUTOTUNE, until restore
// puts back the previous setting. Choices already made are kept.
func SetCUDAAutotune(on bool) (restore func()) {
	prev := tuner.mode.Load()
	if on {
		tuner.mode.Store(autotuneOn)
	} else {
		tuner.mode.Store(autotuneOff)
	}
	return func() { tuner.mode.Store(prev) }
}

// autotuneEnabled says whether calls are tuned now.
func autotuneEnabled() bool {
	switch tuner.mode.Load() {
	case autotuneOn:
		return true
	case autotuneOff:
		return false
	}
	g, err := currentGPU()
	return err == nil && g.autotune
}

// autotuneSetting reads LAFITE_CUDA_AUTOTUNE for a device: "0" off, "1" on,
// otherwise on exactly when it is a driver device.
func autotuneSetting(driverDevice bool) bool {
	switch os.Getenv("LAFITE_CUDA_AUTOTUNE") {
	case "0":
		return false
	case "1":
		return true
	}
	return driverDevice
}

// CUDAAutotuneReport returns the choices made so far, oldest first.
func CUDAAutotuneReport() []AutotuneChoice {
	tuner.mu.Lock()
	defer tuner.mu.Unlock()
	out := make([]AutotuneChoice, 0, len(tuner.order))
	for _, k := range tuner.order {
		out = append(out, *tuner.choices[k])
	}
	return out
}

// ResetCUDAAutotune forgets every choice (tests, and A/B runs in one
// process).
func ResetCUDAAutotune() {
	tuner.mu.Lock()
	defer tuner.mu.Unlock()
	tuner.choices, tuner.order = map[string]*AutotuneChoice{}, nil
}

// lookup returns the index of the choice cached for op and shape among
// names, or -1.
func (t *autotuner) lookup(op, shape string, names []string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.choices[op+"|"+shape]; ok {
		return slices.Index(names, c.Chosen)
	}
	return -1
}

// choose returns which of the candidates names to run for op on shape:
// fallback when tuning is off or there is nothing to choose between, the
// cached choice when there is one, and otherwise the fastest, after timing
// each with run(i). The caller runs the returned candidate itself, so the
// result is the chosen candidate's.
func (g *gpuState) choose(op, shape string, names []string, fallback int, run func(i int)) int {
	if len(names) < 2 || !autotuneEnabled() {
		return fallback
	}
	if i := tuner.lookup(op, shape, names); i >= 0 {
		return i
	}
	key := op + "|" + shape
	c := &AutotuneChoice{Op: op, Shape: shape, Rule: names[fallback], Ms: make(map[string]float64, len(names))}
	best := -1
	var firstErr any
	for i, name := range names {
		ms, failure := g.timeCandidate(func() { run(i) })
		if failure != nil {
			if c.Failed == nil {
				c.Failed = map[string]string{}
			}
			c.Failed[name] = fmt.Sprint(failure)
			if firstErr == nil {
				firstErr = failure
			}
			continue
		}
		if autotuneClock != nil {
			ms = autotuneClock(op, shape, name, ms)
		}
		c.Ms[name] = ms
		if best < 0 || ms < c.Ms[names[best]] {
			best = i
		}
	}
	if best < 0 {
		panic(firstErr) // every candidate failed: the op fails as it would untuned
	}
	c.Chosen = names[best]
	tuner.mu.Lock()
	if _, ok := tuner.choices[key]; !ok { // another goroutine may have tuned it meanwhile
		tuner.order = append(tuner.order, key)
	}
	tuner.choices[key] = c
	tuner.mu.Unlock()
	return best
}

// timeCandidate runs one candidate once to warm it up (kernels compiled,
// workspaces cached, nested ops tuned), then times autotuneRuns-1 runs and
// returns the best; a panic in any run is returned as its value.
func (g *gpuState) timeCandidate(run func()) (ms float64, failure any) {
	defer func() {
		if r := recover(); r != nil {
			failure = r
		}
	}()
	run()
	ms = -1
	for r := 1; r < autotuneRuns; r++ {
		if v := g.timeRun(run); ms < 0 || v < ms {
			ms = v
		}
	}
	return ms, nil
}

// timeRun returns the milliseconds run takes on the device: between two
// CUDA events on a driver device, by the host clock around synchronisations
// elsewhere.
func (g *gpuState) timeRun(run func()) float64 {
	if g.dev != nil {
		start, err := g.dev.NewEvent()
		check("autotune", err)
		defer start.Destroy()
		end, err := g.dev.NewEvent()
		check("autotune", err)
		defer end.Destroy()
		check("autotune", start.Record())
		run()
		check("autotune", end.Record())
		check("autotune", end.Synchronize())
		ms, err := cuda.ElapsedMs(start, end)
		check("autotune", err)
		return float64(ms)
	}
	check("autotune", g.b.Synchronize())
	t0 := time.Now()
	run()
	check("autotune", g.b.Synchronize())
	return float64(time.Since(t0).Nanoseconds()) / 1e6
}
