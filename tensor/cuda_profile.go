package tensor

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/lafite-go/lafite/kernels/cuda"
)

// KernelProfile is one kernel entry point's share of the GPU work launched
// while profiling was on (SetCUDAProfile).
type KernelProfile struct {
	Kernel string  `json:"kernel"` // file:entry
	Calls  int     `json:"calls"`
	Ms     float64 `json:"ms"` // summed GPU time between events recorded around each launch; 0 on the emulator
}

// profiler brackets every launch with two CUDA events while on. The events
// are only read by CUDAProfileReport, so the launches stay asynchronous.
type profiler struct {
	enabled atomic.Bool // read without the lock on every launch; written under it
	mu      sync.Mutex
	pending []profiledLaunch
	calls   map[string]int
	ms      map[string]float64
	free    []*cuda.Event
}

type profiledLaunch struct {
	kernel     string
	start, end *cuda.Event
}

var prof = profiler{calls: map[string]int{}, ms: map[string]float64{}}

// SetCUDAProfile turns the per-kernel profile on (clearing the last one) or
// off. Profiling adds two event records to every launch.
func SetCUDAProfile(on bool) {
	prof.mu.Lock()
	defer prof.mu.Unlock()
	if on && !prof.enabled.Load() {
		prof.calls, prof.ms = map[string]int{}, map[string]float64{}
		for _, l := range prof.pending {
			prof.recycle(l)
		}
		prof.pending = prof.pending[:0]
	}
	prof.enabled.Store(on)
}

// recycle returns a launch's events to the pool.
func (p *profiler) recycle(l profiledLaunch) {
	if l.start != nil {
		p.free = append(p.free, l.start, l.end)
	}
}

// launch runs do (one kernel launch) bracketed by events when profiling.
func (p *profiler) launch(g *gpuState, kernel string, do func()) {
	p.mu.Lock()
	if !p.enabled.Load() { // turned off since the caller looked
		p.mu.Unlock()
		do()
		return
	}
	defer p.mu.Unlock()
	l := profiledLaunch{kernel: kernel}
	if g.dev != nil {
		l.start, l.end = p.event(g.dev), p.event(g.dev)
		check("profile", l.start.Record())
	}
	do()
	if l.end != nil {
		check("profile", l.end.Record())
	}
	p.pending = append(p.pending, l)
}

func (p *profiler) event(d *cuda.Device) *cuda.Event {
	if n := len(p.free); n > 0 {
		e := p.free[n-1]
		p.free = p.free[:n-1]
		return e
	}
	e, err := d.NewEvent()
	check("profile", err)
	return e
}

// CUDAProfileReport waits for the profiled launches, adds them to the
// profile and returns it, the most GPU time first (then the most calls).
func CUDAProfileReport() ([]KernelProfile, error) {
	prof.mu.Lock()
	defer prof.mu.Unlock()
	for i, l := range prof.pending {
		prof.calls[l.kernel]++
		if l.start == nil {
			continue
		}
		ms, err := cuda.ElapsedMs(l.start, l.end)
		if err != nil {
			prof.pending = prof.pending[i:]
			return nil, err
		}
		prof.ms[l.kernel] += float64(ms)
		prof.recycle(l)
	}
	prof.pending = prof.pending[:0]
	out := make([]KernelProfile, 0, len(prof.calls))
	for k, n := range prof.calls {
		out = append(out, KernelProfile{Kernel: k, Calls: n, Ms: prof.ms[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ms != out[j].Ms {
			return out[i].Ms > out[j].Ms
		}
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Kernel < out[j].Kernel
	})
	return out, nil
}
