package bench

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/dryrun"
	"github.com/lafite-go/lafite/tensor"
)

// A trace is what a GPU workload asks of a card, counted without one: its
// launches, run on a dry-run device (kernels/cuda/dryrun) at full size, with
// each launch's FLOPs and DRAM bytes and the floor they set on a card of
// given peaks. It says how much work a step is and where it goes, which a
// timing alone does not; it says nothing of how fast the kernels are.

// tracing is set while TraceGPU runs a workload: setups then check shapes
// only, since a dry-run device computes no values.
var tracing atomic.Bool

// H200 is the card of bench/NOTES.md's GPU runs, as launch planning sees it.
var H200 = cuda.DeviceProps{Name: "NVIDIA H200 (dry run)", Major: 9, Minor: 0, SMs: 132, MaxSharedOptin: 227 << 10, TotalMem: 141 << 30}

// H200Peaks are the FP32 FMA throughput and copy bandwidth peak.cu measured
// on the H200 of bench/NOTES.md, and a kernel's least time back to back on
// it (launch and ramp), the card the traces are costed for by default.
var H200Peaks = TracePeaks{GFLOPS: 63600, GBPS: 3770, MinKernelUs: 2}

// TracePeaks are the card a trace is costed for.
type TracePeaks struct {
	GFLOPS      float64 // FP32 FLOP/s, 1e9
	GBPS        float64 // DRAM bytes/s, 1e9
	MinKernelUs float64 // the least time of any launch, microseconds
}

// FloorMs is the least time of one launch: its FLOPs at the peak, its bytes
// at the bandwidth, or a kernel's least time, whichever is most.
func (p TracePeaks) FloorMs(l dryrun.Launch) float64 {
	return max(l.FLOPs/(p.GFLOPS*1e6), l.Bytes/(p.GBPS*1e6), p.MinKernelUs/1e3)
}

// KernelWork is one entry point's share of a trace, per run.
type KernelWork struct {
	Kernel   string  `json:"kernel"`
	Launches float64 `json:"launches"`
	GFLOP    float64 `json:"gflop"`
	GB       float64 `json:"gb"`
	FloorMs  float64 `json:"floor_ms"`
	// WaveEff is, FLOP-weighted over the kernel's launches, the share of the
	// block slots its grid keeps busy over the waves it needs (blocks over
	// waves·SMs·the __launch_bounds__ blocks per SM): a grid of 576 blocks at
	// 2 per SM on 132 SMs fills 3 waves of 264 to 73%. 0 for kernels without
	// FLOPs or a declared residency.
	WaveEff float64 `json:"wave_eff,omitempty"`
}

// waveEfficiency is l's grid's share of the block slots over its waves on
// an SMs-SM card with perSM resident blocks (0: unknown, 0 returned).
func waveEfficiency(l dryrun.Launch, sms, perSM int) float64 {
	slots := int64(sms) * int64(perSM)
	blocks := int64(l.Grid.X) * int64(l.Grid.Y) * int64(l.Grid.Z)
	if slots == 0 || blocks == 0 {
		return 0
	}
	waves := (blocks + slots - 1) / slots
	return float64(blocks) / float64(waves*slots)
}

// CallerWork is the share of a trace launched by one kernel from one place
// outside the engine (the first frame above packages tensor, autograd and
// kernels: a layer's Forward, a loss, an optimizer), per run.
type CallerWork struct {
	Kernel   string  `json:"kernel"`
	Caller   string  `json:"caller"`
	Launches float64 `json:"launches"`
	GB       float64 `json:"gb"`
	FloorMs  float64 `json:"floor_ms"`
}

// Trace is the work of one run of a workload (Runs > 1: a cycle's mean).
type Trace struct {
	Workload  string            `json:"workload"`
	Runs      int               `json:"runs"`
	Launches  float64           `json:"launches"` // per run
	GFLOP     float64           `json:"gflop"`
	GB        float64           `json:"gb"`
	FloorMs   float64           `json:"floor_ms"`
	Kernels   []KernelWork      `json:"kernels"` // per run, the largest floor first
	Transfers dryrun.Transfers  `json:"transfers"`
	Peaks     TracePeaks        `json:"peaks"`
	Device    cuda.DeviceProps  `json:"device"`
	PerRun    []TraceRunSummary `json:"per_run,omitempty"` // each run of a cycle
	Callers   []CallerWork      `json:"callers"`           // per run, the largest floor first
	// HostMsMedian is the median wall time of a run on the dry-run device:
	// what the engine's Go side (ops, autograd, planning, allocation) costs
	// a run on this machine before any driver or kernel time.
	HostMsMedian float64 `json:"host_ms_median"`
}

// hostTimedRound is how long TraceGPU's host timing runs at least: a
// median of a few dozen runs, and enough samples for a profile of it.
const hostTimedRound = time.Second

// TraceRunSummary is one run of a traced cycle.
type TraceRunSummary struct {
	Launches int     `json:"launches"`
	GFLOP    float64 `json:"gflop"`
	GB       float64 `json:"gb"`
	FloorMs  float64 `json:"floor_ms"`
}

// scopedRun sets w up at full size on the current GPU and returns one run
// of it in a Scope of its own, so that its temporaries go back to the
// allocator as a training loop's would.
func scopedRun(w Workload) func() {
	run, _, _ := w.GPU(1)
	return func() {
		s := tensor.OpenScope()
		run()
		s.Close()
	}
}

// TraceGPU runs w on a dry-run device with the properties props (the SM
// count and shared memory steer launch planning): its setup, a warm-up (a
// whole cycle where it has one, so that caches and the training state are
// as in a timed run), a round of runs timed on the host, then one run, or
// one cycle, recorded. Autotuning is off: the rules choose every variant,
// as on a card with LAFITE_CUDA_AUTOTUNE=0. whileHostTimed, when not nil,
// is called as the host's timed round starts and what it returns as it
// ends (Options.WhileTimed: a CPU profile of the engine's host side).
func TraceGPU(w Workload, props cuda.DeviceProps, peaks TracePeaks, whileHostTimed func(workload string) (end func())) (tr Trace, err error) {
	if w.GPU == nil {
		return Trace{}, fmt.Errorf("workload %s has no GPU version", w.Name)
	}
	d := dryrun.New(props)
	defer tensor.UseCUDABackend(d, props)()
	tracing.Store(true)
	defer tracing.Store(false)
	defer tensor.SetCUDAAutotune(false)()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tracing %s: %v", w.Name, r)
		}
	}()
	scope := tensor.OpenScope()
	defer scope.Close()
	step := scopedRun(w)
	for range max(1, w.Cycle) {
		step()
	}
	// Then a timed round of whole cycles (so the recorded runs start where
	// they did), at least hostTimedRound long: the engine's host side
	// against a device that costs nothing, after a collection that clears
	// the setup's garbage, without the attribution's stack walks, which the
	// recorded runs pay.
	cycle := w.Cycle
	if cycle < 2 {
		cycle = 5
	}
	runtime.GC()
	var host []float64
	var total time.Duration
	end := Options{WhileTimed: whileHostTimed}.startTimed(w.Name)
	for len(host) == 0 || total < hostTimedRound {
		for range cycle {
			d.Reset()
			start := time.Now()
			step()
			t := time.Since(start)
			total += t
			host = append(host, t.Seconds()*1e3)
		}
	}
	end()
	tr.HostMsMedian = median(host)
	d.SetAttribution(callerOutsideEngine)
	runs := max(1, w.Cycle)
	byKernel := map[string]*tally{}
	byCaller := map[[2]string]*tally{}
	tr.Workload, tr.Runs, tr.Peaks, tr.Device = w.Name, runs, peaks, props
	var all tally
	minBlocks := map[string]int{}
	for _, e := range cuda.Entries() {
		minBlocks[e.Name] = e.MinBlocks
	}
	waved := map[string]*[2]float64{} // kernel -> GFLOP·efficiency, GFLOP
	for i := 0; i < runs; i++ {
		d.Reset()
		step()
		var run tally
		for _, l := range d.Launches() {
			f := peaks.FloorMs(l)
			if eff := waveEfficiency(l, props.SMs, minBlocks[l.Kernel]); eff > 0 && l.FLOPs > 0 {
				if waved[l.Kernel] == nil {
					waved[l.Kernel] = new([2]float64)
				}
				waved[l.Kernel][0] += l.FLOPs / 1e9 * eff
				waved[l.Kernel][1] += l.FLOPs / 1e9
			}
			tallyOf(byKernel, l.Kernel).add(l, f)
			tallyOf(byCaller, [2]string{l.Kernel, l.Caller}).add(l, f)
			run.add(l, f)
		}
		t := d.Transfers()
		tr.Transfers.HtoD += t.HtoD
		tr.Transfers.DtoH += t.DtoH
		tr.Transfers.HtoDBytes += t.HtoDBytes
		tr.Transfers.DtoHBytes += t.DtoHBytes
		if runs > 1 {
			tr.PerRun = append(tr.PerRun, TraceRunSummary{Launches: int(run.launches), GFLOP: run.gflop, GB: run.gb, FloorMs: run.floorMs})
		}
		all.addTally(run)
	}
	per := 1 / float64(runs)
	tr.Launches, tr.GFLOP, tr.GB, tr.FloorMs = all.launches*per, all.gflop*per, all.gb*per, all.floorMs*per
	for k, t := range byKernel {
		kw := KernelWork{Kernel: k, Launches: t.launches * per, GFLOP: t.gflop * per, GB: t.gb * per, FloorMs: t.floorMs * per}
		if w := waved[k]; w != nil {
			kw.WaveEff = w[0] / w[1]
		}
		tr.Kernels = append(tr.Kernels, kw)
	}
	for k, t := range byCaller {
		tr.Callers = append(tr.Callers, CallerWork{Kernel: k[0], Caller: k[1], Launches: t.launches * per, GB: t.gb * per, FloorMs: t.floorMs * per})
	}
	slices.SortFunc(tr.Kernels, func(a, b KernelWork) int {
		return cmp.Or(cmp.Compare(b.FloorMs, a.FloorMs), cmp.Compare(a.Kernel, b.Kernel))
	})
	slices.SortFunc(tr.Callers, func(a, b CallerWork) int {
		return cmp.Or(cmp.Compare(b.FloorMs, a.FloorMs), cmp.Compare(a.Kernel, b.Kernel), cmp.Compare(a.Caller, b.Caller))
	})
	return tr, nil
}

// tally sums the work of launches.
type tally struct{ launches, gflop, gb, floorMs float64 }

func (t *tally) add(l dryrun.Launch, floorMs float64) {
	t.addTally(tally{1, l.FLOPs / 1e9, l.Bytes / 1e9, floorMs})
}

// tallyOf is m's tally for k, new if it has none.
func tallyOf[K comparable](m map[K]*tally, k K) *tally {
	if m[k] == nil {
		m[k] = &tally{}
	}
	return m[k]
}

func (t *tally) addTally(u tally) {
	t.launches += u.launches
	t.gflop += u.gflop
	t.gb += u.gb
	t.floorMs += u.floorMs
}

// callerOutsideEngine names the first function on the launching
// goroutine's stack outside the engine's layers (tensor, autograd, kernels,
// and this package's harness): the model code that asked for the launch.
// Launches of a backward pass say so: their closures are autograd's, so the
// caller is where the gradient was asked for.
func callerOutsideEngine() string {
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	backward := ""
	for {
		f, more := frames.Next()
		name := strings.TrimPrefix(f.Function, "github.com/lafite-go/lafite/")
		if name == "autograd.backprop" {
			backward = "backward, from "
		}
		inside := name == f.Function || strings.HasPrefix(name, "tensor.") || strings.HasPrefix(name, "autograd.") ||
			strings.HasPrefix(name, "kernels/") || strings.HasPrefix(name, "bench.")
		if !inside {
			return backward + name
		}
		if !more {
			return backward + "(the engine)"
		}
	}
}
