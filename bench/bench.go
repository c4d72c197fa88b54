// Package bench runs the named workloads of docs/WORKLOADS.md and reports one
// record per workload: median and minimum time, throughput, and the fraction
// of the machine's measured peak. Each op's owner registers its workloads with
// Register in a file of their own.
package bench

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/tensor"
)

// Workload is one named benchmark. Setup allocates fresh N(0,1) inputs,
// checks that the work gives correct results where that is cheap (panicking if
// not), and returns the function to time with the work of one call: flops for
// compute-bound workloads, bytes moved for memory-bound ones (0 when not
// meaningful).
type Workload struct {
	Name  string
	Setup func() (run func(), flops, bytes float64) // on the CPU; nil: GPU only
	// GPU, when set, is the same work set up on the CUDA device (RunGPU).
	// shrink > 1 divides its sizes, for tests against the kernel emulator;
	// 1 is the named workload.
	GPU func(shrink int) (run func(), flops, bytes float64)
	// Items, when set, is the number of items (images, sequences) one call
	// processes, reported as a rate; ItemUnit names them.
	Items    int
	ItemUnit string
	// Cycle, when set, is the period of the work's pattern (a training step
	// with lazy regularizers every Cycle steps): timed runs come in whole
	// cycles, so the median and mean sample every phase in proportion.
	Cycle int
}

// has reports whether w can run on dev.
func (w Workload) has(dev tensor.Device) bool {
	if dev == tensor.CUDA {
		return w.GPU != nil
	}
	return w.Setup != nil
}

var (
	registryMu sync.Mutex
	registry   = map[string]Workload{}
)

// Register adds a workload; names are unique.
func Register(w Workload) {
	if w.Name == "" || (w.Setup == nil && w.GPU == nil) {
		panic("bench.Register: workload needs a Name and a Setup or GPU setup")
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[w.Name]; dup {
		panic(fmt.Sprintf("bench.Register: workload %q registered twice", w.Name))
	}
	registry[w.Name] = w
}

// Workloads returns every workload that runs on the CPU, sorted by name.
func Workloads() []Workload { return WorkloadsOn(tensor.CPU) }

// WorkloadsOn returns every workload that runs on dev, sorted by name.
func WorkloadsOn(dev tensor.Device) []Workload {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]Workload, 0, len(registry))
	for _, w := range registry {
		if w.has(dev) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Select is SelectOn for the CPU.
func Select(names []string) ([]Workload, error) { return SelectOn(tensor.CPU, names) }

// SelectOn returns the workloads for dev with the given names, in that
// order, or all of them when names is empty; unknown names are an error that
// lists the known.
func SelectOn(dev tensor.Device, names []string) ([]Workload, error) {
	all := WorkloadsOn(dev)
	if len(names) == 0 {
		return all, nil
	}
	var out []Workload
	for _, n := range names {
		i := slices.IndexFunc(all, func(w Workload) bool { return w.Name == n })
		if i < 0 {
			registryMu.Lock()
			_, elsewhere := registry[n]
			registryMu.Unlock()
			if elsewhere {
				return nil, fmt.Errorf("workload %q does not run on %v", n, dev)
			}
			known := make([]string, len(all))
			for j, w := range all {
				known[j] = w.Name
			}
			return nil, fmt.Errorf("unknown workload %q (known on %v: %s)", n, dev, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// Options controls the timing of one workload.
type Options struct {
	WarmUp  int           // untimed runs first (default 2)
	MinRuns int           // timed runs at least (default 5)
	MaxRuns int           // and at most (default 50)
	MinTime time.Duration // keep running until this much was timed (default 1s)
	// Shrink divides the sizes of GPU workloads (RunGPU), for tests against
	// the kernel emulator; 0 or 1 is the named workload.
	Shrink int
	// Profile, on the GPU, runs the workload once more (a whole cycle, where
	// it has one) with every launch bracketed by CUDA events, and reports
	// the GPU time per kernel in Record.Kernels.
	Profile bool
	// WhileTimed, when set, is called as the timed runs of a workload start
	// (after its setup and warm-up) and the function it returns as they end:
	// a host profile taken between the two sees only the timed work.
	WhileTimed func(workload string) (end func())
}

// startTimed calls WhileTimed, if set, and returns its end function (or one
// that does nothing).
func (o Options) startTimed(workload string) (end func()) {
	if o.WhileTimed == nil {
		return func() {}
	}
	if end = o.WhileTimed(workload); end == nil {
		return func() {}
	}
	return end
}

func (o Options) withDefaults() Options {
	if o.WarmUp <= 0 {
		o.WarmUp = 2
	}
	if o.MinRuns <= 0 {
		o.MinRuns = 5
	}
	if o.MaxRuns < o.MinRuns {
		o.MaxRuns = max(50, o.MinRuns)
	}
	if o.MinTime <= 0 {
		o.MinTime = time.Second
	}
	return o
}

// Record is the result of one workload, written as one JSON object per line.
type Record struct {
	Workload      string  `json:"workload"`
	Device        string  `json:"device"`
	GPU           string  `json:"gpu,omitempty"`   // the GPU's name (device "cuda")
	Timer         string  `json:"timer,omitempty"` // "cuda_events" or "wall" on a GPU; the CPU's is the wall clock
	MedianMs      float64 `json:"median_ms"`
	MeanMs        float64 `json:"mean_ms,omitempty"` // GPU records
	MinMs         float64 `json:"min_ms"`
	Runs          int     `json:"runs"`
	GFLOPS        float64 `json:"gflops,omitempty"`
	GBPS          float64 `json:"gbps,omitempty"`
	ItemsPerSec   float64 `json:"items_per_s,omitempty"`
	ItemUnit      string  `json:"item_unit,omitempty"`
	PeakFraction  float64 `json:"peak_fraction,omitempty"`
	PerCoreGFLOPS float64 `json:"per_core_gflops,omitempty"` // the fma_peak record only
	AllocsPerRun  float64 `json:"allocs_per_run"`
	// CPUMs is the median of the runs' process CPU time (all threads, user
	// and system; CPU records where the system reports it): unlike the wall
	// clock, steal time does not inflate it, but idle workers polling for
	// work count in it (none with one thread). StealFraction is the share of
	// the machine's CPU time the hypervisor gave to other guests while the
	// runs were timed (Linux; absent elsewhere). See hostload.go.
	CPUMs         float64  `json:"cpu_ms,omitempty"`
	StealFraction *float64 `json:"steal_fraction,omitempty"`
	CPUFeatures   []string `json:"cpu_features"`
	CPUVariant    string   `json:"cpu_variant"`
	CPUModel      string   `json:"cpu_model"`
	Threads       int      `json:"threads"`
	Commit        string   `json:"commit"`
	// Kernels (Options.Profile): per kernel, its launches over the
	// ProfiledRuns runs and its GPU ms per run, the most time first.
	Kernels      []tensor.KernelProfile `json:"kernels,omitempty"`
	ProfiledRuns int                    `json:"profiled_runs,omitempty"`
	// Autotune: the shapes first met by this workload and the variant the
	// autotuner timed fastest for each (GPU; see tensor.SetCUDAAutotune).
	Autotune []tensor.AutotuneChoice `json:"autotune,omitempty"`
	// DeviceAllocs: the device memory allocations (cuMemAlloc calls, i.e.
	// requests the caching allocator could not serve) during the timed runs,
	// after the warm-up; GPU records where the device counts them. A steady
	// training step makes none.
	DeviceAllocs *int64 `json:"device_allocs,omitempty"`
}

// Run times one workload: warm-up, then repeated runs, reporting the median
// (robust to the drift of shared machines) and the minimum. Throughputs and
// the peak fraction are computed from the median.
func Run(w Workload, opt Options) Record {
	opt = opt.withDefaults()
	run, flops, bytes := w.Setup()
	for i := 0; i < opt.WarmUp; i++ {
		run()
	}
	// The timing's own state is made before the allocations are counted:
	// made or grown during the runs, it would count as the workload's.
	times := make([]float64, 0, opt.MaxRuns)
	var total time.Duration
	load := startHostLoad(opt.MaxRuns)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	end := opt.startTimed(w.Name)
	for len(times) < opt.MinRuns || (total < opt.MinTime && len(times) < opt.MaxRuns) {
		load.beginRun()
		t := time.Now()
		run()
		d := time.Since(t)
		load.endRun()
		total += d
		times = append(times, float64(d.Nanoseconds())/1e6)
	}
	end()
	runtime.ReadMemStats(&ms)
	median := median(times)
	brand, _ := cpu.CPUModel()
	r := Record{
		Workload:     w.Name,
		Device:       "cpu",
		MedianMs:     median,
		MinMs:        slices.Min(times),
		Runs:         len(times),
		AllocsPerRun: float64(ms.Mallocs-mallocs) / float64(len(times)),
		CPUFeatures:  cpu.Features(),
		CPUVariant:   cpu.ActiveVariant(),
		CPUModel:     brand,
		Threads:      runtime.GOMAXPROCS(0),
		Commit:       Commit(),
	}
	load.finish(&r)
	sec := median / 1e3
	if bytes > 0 {
		r.GBPS = bytes / sec / 1e9
		r.PeakFraction = r.GBPS / MeasureCopyBandwidth()
	}
	if flops > 0 { // compute-bound work is judged against the FMA peak
		r.GFLOPS = flops / sec / 1e9
		r.PeakFraction = r.GFLOPS / MeasureFMAPeak().AllCoresGFLOPS
	}
	if w.Items > 0 {
		r.ItemsPerSec = float64(w.Items) / sec
		r.ItemUnit = w.ItemUnit
	}
	return r
}

// median is the median of v (the mean of the middle two for an even
// count), without reordering v.
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// PeakRecord is the record of the machine itself: workload "fma_peak", its
// measured FMA throughput on all cores (gflops) and one (per_core_gflops),
// and the copy bandwidth (gbps), so a file of records carries its ceilings.
func PeakRecord() Record {
	p := MeasureFMAPeak()
	brand, _ := cpu.CPUModel()
	return Record{Workload: "fma_peak", Device: "cpu", GFLOPS: p.AllCoresGFLOPS, PerCoreGFLOPS: p.PerCoreGFLOPS,
		GBPS: MeasureCopyBandwidth(), PeakFraction: 1, CPUFeatures: cpu.Features(), CPUVariant: p.ISA,
		CPUModel: brand, Threads: p.Cores, Commit: Commit()}
}
