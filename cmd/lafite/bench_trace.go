package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/lafite-go/lafite/bench"
)

// benchTrace is `lafite bench --trace`: each workload run on a dry-run
// device at full size, its work counted and costed at the H200's peaks.
func benchTrace(ws []bench.Workload, asJSON, byCaller bool, whileHostTimed func(string) func(), stdout io.Writer) error {
	peaks := bench.H200Peaks
	enc := json.NewEncoder(stdout)
	if !asJSON {
		fmt.Fprintf(stdout, "dry run for %s: %d SMs; floors at %.1f TFLOP/s FP32, %.2f TB/s, %.0f us a launch at least\n",
			bench.H200.Name, bench.H200.SMs, peaks.GFLOPS/1e3, peaks.GBPS/1e3, peaks.MinKernelUs)
		fmt.Fprintln(stdout, "(work the engine asks of a card, counted; not a timing: the kernels' speed is the card's to say;")
		fmt.Fprintln(stdout, " waves: the FLOP-weighted share of block slots a kernel's grids keep busy over their waves, at its __launch_bounds__ blocks per SM)")
	}
	for _, w := range ws {
		tr, err := bench.TraceGPU(w, bench.H200, peaks, whileHostTimed)
		if err != nil {
			return err
		}
		if asJSON {
			if err := enc.Encode(tr); err != nil {
				return err
			}
			continue
		}
		printTrace(stdout, tr, 12)
		if byCaller {
			printCallers(stdout, tr, 20)
		}
	}
	return nil
}

// printCallers lists a trace's (kernel, caller) pairs, the largest floor
// first.
func printCallers(w io.Writer, tr bench.Trace, top int) {
	fmt.Fprintf(w, "  %-34s %-52s %9s %9s %9s\n", "kernel", "launched from", "launches", "GB", "floor ms")
	printTop(w, len(tr.Callers), top, func(i int) {
		c := tr.Callers[i]
		fmt.Fprintf(w, "  %-34s %-52s %9.1f %9.2f %9.2f\n", c.Kernel, c.Caller, c.Launches, c.GB, c.FloorMs)
	})
}

// printTop prints rows 0..n-1 with row, the first top of them and a count
// of the rest.
func printTop(w io.Writer, n, top int, row func(i int)) {
	for i := 0; i < min(n, top); i++ {
		row(i)
	}
	if n > top {
		fmt.Fprintf(w, "  ... %d more\n", n-top)
	}
}

func printTrace(w io.Writer, tr bench.Trace, top int) {
	per := "run"
	if tr.Runs > 1 {
		per = fmt.Sprintf("run, mean over a %d-run cycle", tr.Runs)
	}
	fmt.Fprintf(w, "\n%s: per %s: %.0f launches, %.1f GFLOP, %.2f GB, floor %.2f ms; host copies %d up (%d B), %d down (%d B) in all\n",
		tr.Workload, per, tr.Launches, tr.GFLOP, tr.GB, tr.FloorMs,
		tr.Transfers.HtoD, tr.Transfers.HtoDBytes, tr.Transfers.DtoH, tr.Transfers.DtoHBytes)
	fmt.Fprintf(w, "  host side: median %.3f ms a run on this machine (the engine's Go code against a device that costs nothing)\n", tr.HostMsMedian)
	if len(tr.PerRun) > 0 {
		// The cycle's kinds of run (plain, path length, R1), each once.
		count := map[string]int{}
		var kinds []string
		for _, r := range tr.PerRun {
			k := fmt.Sprintf("%.0f GFLOP, %.1f GB, floor %.1f ms", r.GFLOP, r.GB, r.FloorMs)
			if count[k]++; count[k] == 1 {
				kinds = append(kinds, k)
			}
		}
		for _, k := range kinds {
			fmt.Fprintf(w, "  %2d of the %d runs: %s\n", count[k], len(tr.PerRun), k)
		}
	}
	fmt.Fprintf(w, "  %-34s %9s %10s %9s %9s %6s\n", "kernel", "launches", "GFLOP", "GB", "floor ms", "waves")
	printTop(w, len(tr.Kernels), top, func(i int) {
		k := tr.Kernels[i]
		waves := ""
		if k.WaveEff > 0 {
			waves = fmt.Sprintf("%5.0f%%", 100*k.WaveEff)
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-34s %9.1f %10.1f %9.2f %9.2f %6s", k.Kernel, k.Launches, k.GFLOP, k.GB, k.FloorMs, waves), " "))
	})
}
