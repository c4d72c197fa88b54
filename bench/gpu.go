package bench

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/tensor"
)

// The GPU side of the registry: the same workloads with their inputs on the
// CUDA device, timed with CUDA events.

func (o Options) withGPUDefaults() Options {
	if o.MinTime <= 0 {
		o.MinTime = 500 * time.Millisecond
	}
	if o.MinRuns <= 0 {
		o.MinRuns = 10
	}
	if o.MaxRuns < o.MinRuns {
		o.MaxRuns = max(100, o.MinRuns)
	}
	o = o.withDefaults()
	if o.Shrink < 1 {
		o.Shrink = 1
	}
	return o
}

// gpuTimer times one call of f, which queues GPU work: with CUDA events on
// a GPU, with the host clock on the kernel emulator (tests).
type gpuTimer struct {
	d *cuda.Device // nil: emulated
}

func (t gpuTimer) time(f func()) float64 {
	if t.d == nil {
		start := time.Now()
		f()
		return float64(time.Since(start).Nanoseconds()) / 1e6
	}
	ms, err := t.d.Time(func() error { f(); return nil })
	if err != nil {
		panic(fmt.Sprintf("bench: timing with CUDA events: %v", err))
	}
	return float64(ms)
}

func (t gpuTimer) sync() {
	if t.d != nil {
		if err := t.d.Synchronize(); err != nil {
			panic(fmt.Sprintf("bench: GPU: %v", err))
		}
	}
}

func (t gpuTimer) name() string {
	if t.d == nil {
		return "wall"
	}
	return "cuda_events"
}

// RunGPU times one workload on the CUDA device: setup (inputs and weights on
// the GPU), warm-up, then timed runs between CUDA events, each run in a
// tensor.Scope so that its temporaries go back to the caching allocator as a
// training loop's would. It reports the median (and mean) GPU time; the peak
// fraction is against the FP32 FMA throughput and copy bandwidth measured on
// the device itself (peak.cu). Everything the workload allocated is freed
// when it returns. It needs CUDAAvailable; on the test emulator the runs are
// timed with the host clock and no peak is known.
func RunGPU(w Workload, opt Options) (Record, error) {
	if w.GPU == nil {
		return Record{}, fmt.Errorf("workload %s has no GPU version", w.Name)
	}
	if err := tensor.CUDAAvailable(); err != nil {
		return Record{}, err
	}
	opt = opt.withGPUDefaults()
	d, _ := tensor.CUDADevice() // nil on the emulator
	tm := gpuTimer{d: d}
	scope := tensor.OpenScope()
	defer scope.Close()
	tuned := len(tensor.CUDAAutotuneReport()) // shapes met from here on are this workload's
	run, flops, bytes := w.GPU(opt.Shrink)
	step := func() {
		s := tensor.OpenScope()
		run()
		s.Close()
	}
	// Warm-up covers a whole cycle, so that every phase of the work has run
	// (kernels compiled, workspaces cached, shapes autotuned) before timing.
	for i := 0; i < max(opt.WarmUp, w.Cycle); i++ {
		step()
	}
	tm.sync()
	minRuns, maxRuns := opt.MinRuns, opt.MaxRuns
	if w.Cycle > 0 { // whole cycles: every phase in proportion
		minRuns = (max(minRuns, w.Cycle) + w.Cycle - 1) / w.Cycle * w.Cycle
		maxRuns = minRuns
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	allocs0, counted := tensor.CUDADeviceAllocs()
	times := make([]float64, 0, maxRuns)
	total := 0.0
	end := opt.startTimed(w.Name)
	for len(times) < minRuns || (total < float64(opt.MinTime.Milliseconds()) && len(times) < maxRuns) {
		v := tm.time(step)
		total += v
		times = append(times, v)
	}
	end()
	runtime.ReadMemStats(&ms)
	allocs1, _ := tensor.CUDADeviceAllocs()
	median := median(times)
	brand, _ := cpu.CPUModel()
	r := Record{
		Workload:     w.Name,
		Device:       "cuda",
		GPU:          gpuName(),
		Timer:        tm.name(),
		MedianMs:     median,
		MeanMs:       total / float64(len(times)),
		MinMs:        slices.Min(times),
		Runs:         len(times),
		AllocsPerRun: float64(ms.Mallocs-mallocs) / float64(len(times)),
		CPUFeatures:  cpu.Features(),
		CPUVariant:   cpu.ActiveVariant(),
		CPUModel:     brand,
		Threads:      runtime.GOMAXPROCS(0),
		Commit:       Commit(),
	}
	sec := median / 1e3
	peak := MeasureGPUPeak()
	if bytes > 0 {
		r.GBPS = bytes / sec / 1e9
		if peak.GBPS > 0 {
			r.PeakFraction = r.GBPS / peak.GBPS
		}
	}
	if flops > 0 {
		r.GFLOPS = flops / sec / 1e9
		if peak.GFLOPS > 0 {
			r.PeakFraction = r.GFLOPS / peak.GFLOPS
		}
	}
	r.Autotune = tensor.CUDAAutotuneReport()[tuned:]
	if counted {
		n := allocs1 - allocs0
		r.DeviceAllocs = &n
	}
	if w.Items > 0 {
		r.ItemsPerSec = float64(w.Items) / sec
		r.ItemUnit = w.ItemUnit
	}
	if opt.Profile {
		runs := max(1, w.Cycle)
		tensor.SetCUDAProfile(true)
		for i := 0; i < runs; i++ {
			step()
		}
		ks, err := tensor.CUDAProfileReport()
		tensor.SetCUDAProfile(false)
		if err != nil {
			return r, fmt.Errorf("profiling %s: %w", w.Name, err)
		}
		for i := range ks {
			ks[i].Ms /= float64(runs)
		}
		r.Kernels, r.ProfiledRuns = ks, runs
	}
	return r, nil
}

func gpuName() string { return tensor.CUDAName() }

// GPUPeak is the measured FP32 FMA throughput and copy bandwidth of the GPU
// (zeros when there is no driver device).
type GPUPeak struct {
	GFLOPS, GBPS float64
}

var gpuPeakOnce = sync.OnceValue(measureGPUPeak)

// MeasureGPUPeak runs peak.cu's FMA loop and copy once per process and
// returns the medians of their CUDA-event timings, as the gpucheck timing
// table does.
func MeasureGPUPeak() GPUPeak { return gpuPeakOnce() }

func measureGPUPeak() GPUPeak {
	d, err := tensor.CUDADevice()
	if err != nil {
		return GPUPeak{}
	}
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("bench: GPU peak: %v", err))
		}
	}
	tm := gpuTimer{d: d}
	median := func(f func()) float64 {
		for i := 0; i < 3; i++ {
			f()
		}
		tm.sync()
		v := make([]float64, 15)
		for i := range v {
			v[i] = tm.time(f)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	blocks, iters := 64*d.Props.SMs, 4096
	out, err := d.Alloc(int64(4 * 256 * blocks))
	must(err)
	defer d.Free(out)
	f, err := d.Function("peak.cu", "peak_fma_f32")
	must(err)
	ms := median(func() {
		must(d.Launch(f, cuda.D1(blocks), cuda.D1(256), 0, int32(iters), float32(1), float32(1e-7), out))
	})
	fma := 16 * float64(iters) * float64(256*blocks) / (ms * 1e-3) / 1e9

	const n4 = 16 << 20 // float4s: 256 MiB each way
	x, err := d.Alloc(16 * n4)
	must(err)
	defer d.Free(x)
	y, err := d.Alloc(16 * n4)
	must(err)
	defer d.Free(y)
	must(d.MemsetD32(x, 0, 4*n4))
	c, err := d.Function("peak.cu", "peak_copy_f32")
	must(err)
	grid := cuda.GridStride(n4, 256, d.Props.SMs)
	ms = median(func() { must(d.Launch(c, grid, cuda.D1(256), 0, int64(n4), x, y)) })
	return GPUPeak{GFLOPS: fma, GBPS: 2 * 16 * n4 / (ms * 1e-3) / 1e9}
}

// GPUPeakRecord is the GPU's own record: workload "fma_peak" on device
// "cuda" with the measured FMA throughput (gflops) and copy bandwidth
// (gbps), so a file of GPU records carries its ceilings.
func GPUPeakRecord() Record {
	p := MeasureGPUPeak()
	brand, _ := cpu.CPUModel()
	return Record{Workload: "fma_peak", Device: "cuda", GPU: gpuName(), Timer: "cuda_events", GFLOPS: p.GFLOPS, GBPS: p.GBPS,
		PeakFraction: 1, CPUFeatures: cpu.Features(), CPUVariant: cpu.ActiveVariant(), CPUModel: brand,
		Threads: runtime.GOMAXPROCS(0), Commit: Commit()}
}
