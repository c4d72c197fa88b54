package bench

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseMachineTimes(t *testing.T) {
	// A kernel with guest fields: they are inside user/nice already and must
	// not count twice.
	stat := "cpu  2111090 0 173605 879379 5483 0 2463 12372 500 7\ncpu0 1 2 3 4 5 6 7 8 0 0\n"
	got, err := parseMachineTimes(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (machineTimes{steal: 12372, total: 2111090 + 173605 + 879379 + 5483 + 2463 + 12372}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3 4 5 6 7\n", "cpu 1 2 3 4 5 6 7 x 0 0\n", "cpu0 1 2 3 4 5 6 7 8\n"} {
		if _, err := parseMachineTimes(bad); err == nil || !strings.Contains(err.Error(), "/proc/stat") {
			t.Errorf("%q: err %v, want one naming /proc/stat", bad, err)
		}
	}
}

func TestStealSince(t *testing.T) {
	before := machineTimes{steal: 100, total: 1000}
	if s, ok := (machineTimes{steal: 130, total: 1200}).stealSince(before); !ok || s != 30.0/200 {
		t.Errorf("steal %v ok %v, want 0.15", s, ok)
	}
	if _, ok := before.stealSince(before); ok {
		t.Error("no time passed, yet a steal fraction")
	}
	if _, ok := (machineTimes{steal: 50, total: 1200}).stealSince(before); ok {
		t.Error("a counter that went backwards gave a steal fraction")
	}
}

// TestRunReportsProcessCPUTime: a run that sleeps has a wall time but next to
// no CPU time; one that computes until the process has used 10 ms more CPU
// reports at least that. (Neither depends on the machine's speed or load.)
func TestRunReportsProcessCPUTime(t *testing.T) {
	if _, ok := processCPUTime(); !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("getrusage failed on Linux")
		}
		t.Skip("no process CPU time on " + runtime.GOOS)
	}
	sleep := Workload{Name: "sleep", Setup: func() (func(), float64, float64) {
		return func() { time.Sleep(20 * time.Millisecond) }, 0, 0
	}}
	r := Run(sleep, Options{WarmUp: 1, MinRuns: 3, MinTime: time.Millisecond})
	if r.MedianMs < 20 || r.CPUMs > 5 {
		t.Errorf("sleeping 20 ms: median %.3f ms, cpu %.3f ms", r.MedianMs, r.CPUMs)
	}
	var sink float64
	busy := Workload{Name: "busy", Setup: func() (func(), float64, float64) {
		return func() {
			start, _ := processCPUTime()
			for {
				for i := range 10000 {
					sink += float64(i) * 1e-9
				}
				if now, _ := processCPUTime(); now-start >= 10*time.Millisecond {
					return
				}
			}
		}, 0, 0
	}}
	r = Run(busy, Options{WarmUp: 1, MinRuns: 3, MinTime: time.Millisecond})
	if r.CPUMs < 10 {
		t.Errorf("computing for 10 ms of CPU: cpu %.3f ms a run (wall median %.3f)", r.CPUMs, r.MedianMs)
	}
	// Neither the loop nor the measurement of the host's load allocates.
	if r.AllocsPerRun != 0 {
		t.Errorf("a workload that allocates nothing: %v allocations a run", r.AllocsPerRun)
	}
	if runtime.GOOS == "linux" && (r.StealFraction == nil || *r.StealFraction < 0 || *r.StealFraction > 1) {
		t.Errorf("steal fraction %v, want one in [0, 1] on Linux", r.StealFraction)
	}
	_ = sink
}
