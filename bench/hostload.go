package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The wall clock of a timed run counts whatever the host did meanwhile. On a
// virtual machine whose host is oversubscribed, the hypervisor runs other
// guests on our vCPUs ("steal" time): the same binary then moves by tens of
// percent between back-to-back runs, and a median says as much about the
// neighbours as about the kernels. Two figures make such a measurement
// readable: the process's own CPU time per run, which steal does not inflate
// (it counts only the time our threads were on a CPU), and the share of the
// machine's time stolen while the runs were timed. Neither replaces the
// wall-clock median; they say how far to trust it.

// machineTimes is the first line of /proc/stat: the jiffies all CPUs spent
// in each state since boot.
type machineTimes struct {
	steal, total uint64
}

// readMachineTimes reads /proc/stat; ok is false where there is none (not
// Linux) or it cannot be parsed.
func readMachineTimes() (machineTimes, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}, false
	}
	t, err := parseMachineTimes(string(b))
	return t, err == nil
}

// parseMachineTimes reads the aggregate "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal [guest guest_nice]. Guest time is
// already counted in user and nice, so the total is the first eight fields.
func parseMachineTimes(stat string) (machineTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineTimes{}, fmt.Errorf("/proc/stat: first line %q is not the aggregate cpu line with a steal field", line)
	}
	var t machineTimes
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return machineTimes{}, fmt.Errorf("/proc/stat: field %d of the cpu line: %v", i+1, err)
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t, nil
}

// stealSince is the share of the machine's CPU time stolen between two
// readings; ok is false when no time passed (a kernel tick is 1-10 ms).
func (t machineTimes) stealSince(before machineTimes) (float64, bool) {
	if t.total <= before.total || t.steal < before.steal {
		return 0, false
	}
	return float64(t.steal-before.steal) / float64(t.total-before.total), true
}

// hostLoad measures one timed section: the process's CPU time of each run
// and the steal over the whole section.
type hostLoad struct {
	start    machineTimes
	startOK  bool
	cpuOK    bool
	runStart time.Duration
	runs     []float64 // process CPU ms of each run
}

func startHostLoad(maxRuns int) *hostLoad {
	h := &hostLoad{runs: make([]float64, 0, maxRuns)}
	h.start, h.startOK = readMachineTimes()
	return h
}

func (h *hostLoad) beginRun() { h.runStart, h.cpuOK = processCPUTime() }

func (h *hostLoad) endRun() {
	if !h.cpuOK {
		return
	}
	if t, ok := processCPUTime(); ok {
		h.runs = append(h.runs, float64(t-h.runStart)/1e6)
	}
}

// finish fills the record's CPUMs (the median of the runs' CPU times) and
// StealFraction, each where the system reports it.
func (h *hostLoad) finish(r *Record) {
	if len(h.runs) > 0 {
		r.CPUMs = median(h.runs)
	}
	if !h.startOK {
		return
	}
	if end, ok := readMachineTimes(); ok {
		if s, ok := end.stealSince(h.start); ok {
			r.StealFraction = &s
		}
	}
}
