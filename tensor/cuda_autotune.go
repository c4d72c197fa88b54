package tensor

import (
	"fmt"
	"math"
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
// Each candidate's result is compared with the rules' candidate's, which
// runs first: one that differs by more than autotuneTolerance is recorded as
// failed and never chosen, so a variant that is wrong on some shape (and may
// be fast because of it) cannot slip into a training run or a benchmark.

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

// autotuneTolerance bounds a candidate's largest difference from the rules'
// result, relative to the largest |value| of that result. The variants sum
// in different orders (Winograd's transforms, split K), which moves results
// by far less (about 1e-5 of that scale for F(4x4,3x3) over 512 channels);
// a wrong index or a skipped tile moves them by about the scale itself.
const autotuneTolerance = 1e-2

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
// each with run(i). out, when not nil, is what run writes: every
// candidate's result is checked against fallback's (see autotuneTolerance).
// The caller runs the returned candidate itself, so the result is the
// chosen candidate's.
func (g *gpuState) choose(op, shape string, names []string, fallback int, run func(i int), out *Tensor) int {
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
	fail := func(name string, why any) {
		if c.Failed == nil {
			c.Failed = map[string]string{}
		}
		c.Failed[name] = fmt.Sprint(why)
		if firstErr == nil {
			firstErr = why
		}
	}
	var ref *Tensor // the rules' result
	defer func() {
		if ref != nil {
			g.free(ref.storage)
		}
	}()
	order := []int{fallback} // the rules' candidate first: the others are checked against it
	for i := range names {
		if i != fallback {
			order = append(order, i)
		}
	}
	for _, i := range order {
		name := names[i]
		ms, failure := g.timeCandidate(func() { run(i) })
		if failure != nil {
			fail(name, failure)
			continue
		}
		if out != nil && i == fallback {
			ref = out.Clone() // freed on return; the Scope's later free of it is a no-op
		} else if ref != nil {
			if why := candidateMismatch(out, ref, names[fallback]); why != "" {
				fail(name, why)
				continue
			}
		}
		if autotuneClock != nil {
			ms = autotuneClock(op, shape, name, ms)
		}
		c.Ms[name] = ms
		if best < 0 || ms < c.Ms[names[best]] || ms == c.Ms[names[best]] && i < best {
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

// candidateMismatch says how out differs from ref, the result of the
// candidate rule, or "" when it is within autotuneTolerance. A ref that is
// not finite (NaN or Inf inputs) cannot be compared and passes.
func candidateMismatch(out, ref *Tensor, rule string) string {
	scope := OpenScope()
	defer scope.Close()
	diff := Sub(out, ref)
	// The sums carry a NaN or Inf, which Max may skip.
	v := tuningRead(Stack([]*Tensor{Sum(ref, nil, false), Max(Abs(ref), nil, false),
		Sum(diff, nil, false), Max(Abs(diff), nil, false)}, 0))
	refSum, refMax, diffSum, diffMax := v[0], v[1], v[2], v[3]
	if !finite32(refSum) || !finite32(refMax) {
		return ""
	}
	if !finite32(diffSum) || !(float64(diffMax) <= autotuneTolerance*float64(refMax)) {
		return fmt.Sprintf("result differs from %s's: max |difference| %.3g where max |value| is %.3g", rule, diffMax, refMax)
	}
	return ""
}

// tuningRead downloads a small contiguous GPU tensor for the tuner itself,
// outside CUDATransfers: like its timing's synchronisations, it is part of
// the one-time cost of tuning a shape, not of the op.
func tuningRead(t *Tensor) []float32 {
	out := make([]float32, t.Numel())
	check("autotune", theGPU().b.(countingBackend).CUDABackend.CopyDtoHF32(out, t.ptr()))
	return out
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

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

// rawCUDAView is a tensor over device memory at p that no tensor owns (a
// kernel's output buffer), with the given shape and strides (nil:
// contiguous); never released.
func rawCUDAView(p cuda.DevicePtr, shape, strides []int) *Tensor {
	if strides == nil {
		strides = contiguousStrides(shape)
	}
	n := 1
	for i, d := range shape {
		if d == 0 {
			n = 0
			break
		}
		n += (d - 1) * strides[i]
	}
	return &Tensor{shape: shape, strides: strides, storage: &Storage{device: CUDA, ptr: p, n: n}}
}
