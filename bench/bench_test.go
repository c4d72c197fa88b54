package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// BenchmarkWorkloads runs every registered workload as a sub-benchmark, so
// `go test -bench Workloads/sgemm_1024 ./bench` times one of them.
func BenchmarkWorkloads(b *testing.B) {
	peak := MeasureFMAPeak()
	for _, w := range Workloads() {
		b.Run(w.Name, func(b *testing.B) {
			run, flops, bytes := w.Setup()
			run()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				run()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			if flops > 0 {
				b.ReportMetric(flops/sec/1e9, "GFLOP/s")
				b.ReportMetric(flops/sec/1e9/peak.AllCoresGFLOPS, "peak-fraction")
			}
			if bytes > 0 {
				b.ReportMetric(bytes/sec/1e9, "GB/s")
			}
		})
	}
}

func TestRegisterRejectsDuplicatesAndSelectsByName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering sgemm_1024 twice did not panic")
		}
	}()
	if _, err := Select([]string{"sgemm_1024", "no_such_workload"}); err == nil || !strings.Contains(err.Error(), "no_such_workload") {
		t.Errorf("Select of an unknown name: %v", err)
	}
	ws, err := Select([]string{"sgemm_4096x512x512", "sgemm_1024"})
	if err != nil || len(ws) != 2 || ws[0].Name != "sgemm_4096x512x512" {
		t.Errorf("Select kept neither names nor order: %v %v", ws, err)
	}
	Register(Workload{Name: "sgemm_1024", Setup: sgemmSetup(1, 1, 1)})
}

func TestRunRecord(t *testing.T) {
	calls := 0
	w := Workload{Name: "test_sleep", Items: 2, ItemUnit: "images", Setup: func() (func(), float64, float64) {
		return func() { calls++; time.Sleep(2 * time.Millisecond) }, 2e6, 0
	}}
	r := Run(w, Options{WarmUp: 1, MinRuns: 3, MaxRuns: 4, MinTime: time.Millisecond})
	if calls != 4 || r.Runs != 3 {
		t.Errorf("calls %d runs %d, want 4 calls (1 warm-up) and 3 runs", calls, r.Runs)
	}
	if r.MinMs < 2 || r.MedianMs < r.MinMs || r.MedianMs > 1000 {
		t.Errorf("times: median %v min %v", r.MedianMs, r.MinMs)
	}
	if want := 2e6 / (r.MedianMs / 1e3) / 1e9; r.GFLOPS != want || r.PeakFraction <= 0 || r.PeakFraction > 1 {
		t.Errorf("gflops %v (want %v), peak fraction %v", r.GFLOPS, want, r.PeakFraction)
	}
	if r.ItemsPerSec <= 0 || r.Commit == "" || r.Device != "cpu" || len(r.CPUFeatures) == 0 {
		t.Errorf("record incomplete: %+v", r)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"workload":"test_sleep"`, `"median_ms"`, `"min_ms"`, `"runs":3`, `"gflops"`, `"peak_fraction"`, `"cpu_features"`, `"commit"`} {
		if !strings.Contains(string(js), field) {
			t.Errorf("JSON lacks %s: %s", field, js)
		}
	}
}

// TestRunWhileTimed: the WhileTimed hook brackets exactly the timed runs,
// after setup and warm-up.
func TestRunWhileTimed(t *testing.T) {
	var events []string
	w := Workload{Name: "test_events", Setup: func() (func(), float64, float64) {
		events = append(events, "setup")
		return func() { events = append(events, "run") }, 0, 0
	}}
	hook := func(name string) func() {
		events = append(events, "start "+name)
		return func() { events = append(events, "end") }
	}
	r := Run(w, Options{WarmUp: 2, MinRuns: 3, MaxRuns: 3, MinTime: time.Nanosecond, WhileTimed: hook})
	want := "setup run run start test_events run run run end"
	if got := strings.Join(events, " "); got != want || r.Runs != 3 {
		t.Errorf("events %q (runs %d), want %q", got, r.Runs, want)
	}
	// A hook that returns no end function is allowed.
	Run(w, Options{WarmUp: 1, MinRuns: 1, MaxRuns: 1, MinTime: time.Nanosecond, WhileTimed: func(string) func() { return nil }})
}

func TestSgemmWorkloadsValidate(t *testing.T) {
	// Setup checks its product against float64 dot products and panics if
	// wrong; a small shape keeps this fast.
	run, flops, _ := sgemmSetup(37, 53, 29)()
	run()
	if flops != 2*37*53*29 {
		t.Errorf("flops %v", flops)
	}
}

func TestFMAPeakPlausible(t *testing.T) {
	p := MeasureFMAPeak()
	// At least the scalar loop's rate on one core, and no more cores than exist.
	if p.PerCoreGFLOPS < 0.5 || p.AllCoresGFLOPS < p.PerCoreGFLOPS*0.5 || p.Cores < 1 {
		t.Errorf("implausible peak %+v", p)
	}
	if bw := MeasureCopyBandwidth(); bw < 0.5 {
		t.Errorf("copy bandwidth %v GB/s", bw)
	}
}
