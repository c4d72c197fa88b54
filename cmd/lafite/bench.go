package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lafite-go/lafite/bench"
	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/tensor"
)

func init() {
	register("bench", "time the named benchmark workloads (docs/WORKLOADS.md) against the measured peak", runBench)
}

func runBench(args []string, stdout io.Writer) (err error) {
	fs := newFlags("bench", os.Stderr)
	only := fs.String("only", "", "comma-separated workload names (default: all)")
	asJSON := fs.Bool("json", false, "print one JSON record per workload instead of a table")
	list := fs.Bool("list", false, "list the workloads and exit")
	listCPU := fs.Bool("list-cpu", false, "list the CPU kernel variants this machine supports, best first, and exit")
	variant := fs.String("cpu", "", "CPU kernel variant (generic, avx2, avx512; default: LAFITE_CPU or the best supported)")
	minRuns := fs.Int("runs", 0, "timed runs at least (default 5)")
	minTime := fs.Duration("min-time", 0, "time each workload at least this long (default 1s; 0.5s on cuda)")
	device := fs.String("device", "cpu", "where the workloads run: cpu, or cuda (inputs on the GPU, timed with CUDA events)")
	shrink := fs.Int("shrink", 1, "divide the sizes of the cuda workloads by this (tests of the wiring; 1: the named workloads)")
	profile := fs.Bool("profile", false, "cuda: after timing, run each workload once more (a whole cycle) and report the GPU time per kernel")
	trace := fs.Bool("trace", false, "run no GPU: count each cuda workload's kernel launches, FLOPs and DRAM bytes at full size (a dry-run device), and the time they need at least on an H200")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the timed runs (not setup or warm-up; with --trace, the host side's timed round) to this file, or with several workloads one file each, FILE with the workload's name before its extension (go tool pprof FILE): where the host's time goes")
	byCaller := fs.Bool("by-caller", false, "with --trace: also list the kernels by the model code that launched them (a layer's Forward, a loss, the optimizer)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *listCPU {
		fmt.Fprintln(stdout, strings.Join(cpu.Variants(), "\n"))
		return nil
	}
	if *variant != "" {
		if err := cpu.UseVariant(*variant); err != nil {
			return err
		}
	}
	var names []string
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	var ws []bench.Workload
	if *trace {
		ws, err = bench.SelectOn(tensor.CUDA, names)
	} else {
		ws, err = bench.SelectOn(dev, names)
	}
	if err != nil {
		return err
	}
	if *list {
		for _, w := range ws {
			fmt.Fprintln(stdout, w.Name)
		}
		return nil
	}
	var whileTimed func(string) func()
	if *cpuProfile != "" {
		names := make([]string, len(ws))
		for i, w := range ws {
			names[i] = w.Name
		}
		profiles, err := openTimedProfiles(*cpuProfile, names)
		if err != nil {
			return err
		}
		whileTimed = profiles.whileTimed
		defer func() {
			if cerr := profiles.close(); err == nil {
				err = cerr
			}
		}()
	}
	if *trace {
		return benchTrace(ws, *asJSON, *byCaller, whileTimed, stdout)
	}
	if dev == tensor.CUDA {
		if err := requireCUDA(); err != nil {
			return err
		}
		return benchGPU(ws, bench.Options{MinRuns: *minRuns, MinTime: *minTime, Shrink: *shrink, Profile: *profile, WhileTimed: whileTimed}, *asJSON, stdout)
	}
	opt := bench.Options{MinRuns: *minRuns, MinTime: *minTime, WhileTimed: whileTimed}
	peak := bench.MeasureFMAPeak()
	brand, _ := cpu.CPUModel()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(bench.PeakRecord()); err != nil {
			return err
		}
		for _, w := range ws {
			if err := enc.Encode(bench.Run(w, opt)); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(stdout, "machine: %s, %d threads, kernels %s (%s), %s\n", brand, runtime.GOMAXPROCS(0),
		cpu.ActiveVariant(), strings.Join(cpu.Features(), ","), time.Now().Format("2006-01-02"))
	fmt.Fprintf(stdout, "FMA peak (%s): %.1f GFLOP/s per core, %.1f GFLOP/s all cores; copy %.1f GB/s\n\n",
		peak.ISA, peak.PerCoreGFLOPS, peak.AllCoresGFLOPS, bench.MeasureCopyBandwidth())
	fmt.Fprintf(stdout, "%-32s %10s %10s %10s %5s %8s %7s %5s %9s %7s %6s\n", "workload", "median ms", "min ms", "cpu ms", "runs", "GFLOP/s", "GB/s", "peak", "items/s", "allocs", "steal")
	stolen := false
	for _, w := range ws {
		r := bench.Run(w, opt)
		steal := "-"
		if r.StealFraction != nil {
			steal = fmt.Sprintf("%.0f%%", 100**r.StealFraction)
			stolen = stolen || *r.StealFraction >= 0.05
		}
		fmt.Fprintf(stdout, "%-32s %10.3f %10.3f %10s %5d %8s %7s %5s %9s %7.0f %6s\n", r.Workload, r.MedianMs, r.MinMs, optional(r.CPUMs, "%.3f"), r.Runs,
			optional(r.GFLOPS, "%.1f"), optional(r.GBPS, "%.1f"), optional(100*r.PeakFraction, "%.0f%%"),
			optional(r.ItemsPerSec, "%.2f"), r.AllocsPerRun, steal)
	}
	fmt.Fprintf(stdout, "\ncpu ms: the process's CPU time a run (all threads, median), which steal does not inflate; steal: the share\n"+
		"of the machine's CPU time the hypervisor gave to other guests while the runs were timed.\n")
	if stolen {
		fmt.Fprintf(stdout, "The host took 5%% or more of this machine's time during some runs: their wall times carry that noise;\n"+
			"compare changes by interleaved runs, or by cpu ms with GOMAXPROCS=1 (no polling workers).\n")
	}
	return nil
}

func optional(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// benchGPU is runBench on the CUDA device: the fma_peak record of the GPU
// (peak.cu's FMA loop and copy), then one record per workload.
func benchGPU(ws []bench.Workload, opt bench.Options, asJSON bool, stdout io.Writer) error {
	peak := bench.GPUPeakRecord()
	if asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(peak); err != nil {
			return err
		}
		for _, w := range ws {
			r, err := bench.RunGPU(w, opt)
			if err != nil {
				return err
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if peak.GFLOPS > 0 {
		fmt.Fprintf(stdout, "GPU: %s, %s; measured FP32 FMA peak %.0f GFLOP/s, copy %.0f GB/s; CUDA-event medians\n\n",
			peak.GPU, time.Now().Format("2006-01-02"), peak.GFLOPS, peak.GBPS)
	} else { // a stand-in (emulator, host simulator): no events, no peak
		fmt.Fprintf(stdout, "GPU: %s, %s; no driver device: wall-clock medians, no peak\n\n", peak.GPU, time.Now().Format("2006-01-02"))
	}
	fmt.Fprintf(stdout, "%-32s %10s %10s %10s %5s %8s %7s %5s %9s\n", "workload", "median ms", "mean ms", "min ms", "runs", "GFLOP/s", "GB/s", "peak", "items/s")
	for _, w := range ws {
		r, err := bench.RunGPU(w, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-32s %10.3f %10.3f %10.3f %5d %8s %7s %5s %9s\n", r.Workload, r.MedianMs, r.MeanMs, r.MinMs, r.Runs,
			optional(r.GFLOPS, "%.0f"), optional(r.GBPS, "%.0f"), optional(100*r.PeakFraction, "%.0f%%"),
			optional(r.ItemsPerSec, "%.1f"))
		if r.DeviceAllocs != nil && *r.DeviceAllocs != 0 {
			fmt.Fprintf(stdout, "    %d device memory allocations during the timed runs (a steady state makes none)\n", *r.DeviceAllocs)
		}
		printKernelProfile(stdout, r, 15)
		printAutotune(stdout, r, 5)
	}
	return nil
}

// printAutotune summarises the shapes a record's workload had tuned: the
// winners per op, and the shapes where the winner beat the rules' choice by
// the most.
func printAutotune(w io.Writer, r bench.Record, top int) {
	if len(r.Autotune) == 0 {
		return
	}
	wins := map[string]map[string]int{}
	var ops []string
	for _, c := range r.Autotune {
		if wins[c.Op] == nil {
			wins[c.Op] = map[string]int{}
			ops = append(ops, c.Op)
		}
		wins[c.Op][c.Chosen]++
	}
	var parts []string
	for _, op := range ops {
		names := slices.Sorted(maps.Keys(wins[op]))
		var ws []string
		for _, n := range names {
			ws = append(ws, fmt.Sprintf("%s %d", n, wins[op][n]))
		}
		parts = append(parts, op+": "+strings.Join(ws, ", "))
	}
	fmt.Fprintf(w, "    autotuned %d shapes; fastest: %s\n", len(r.Autotune), strings.Join(parts, "; "))
	for _, c := range r.Autotune {
		for _, name := range slices.Sorted(maps.Keys(c.Failed)) {
			fmt.Fprintf(w, "    FAILED candidate %s for %s %s: %s\n", name, c.Op, c.Shape, c.Failed[name])
		}
	}
	gains := slices.Clone(r.Autotune)
	gain := func(c tensor.AutotuneChoice) float64 { return c.Ms[c.Rule] - c.Ms[c.Chosen] }
	slices.SortStableFunc(gains, func(a, b tensor.AutotuneChoice) int { return cmp.Compare(gain(b), gain(a)) })
	for i, c := range gains {
		if i == top || gain(c) <= 0 {
			break
		}
		fmt.Fprintf(w, "    %-16s %-58s %s %.3f ms (rules: %s %.3f ms)\n", c.Op, c.Shape, c.Chosen, c.Ms[c.Chosen], c.Rule, c.Ms[c.Rule])
	}
}

// printKernelProfile lists the top kernels of a profiled record: launches
// per run, GPU ms per run and share of the kernels' summed time.
func printKernelProfile(w io.Writer, r bench.Record, top int) {
	if len(r.Kernels) == 0 {
		return
	}
	total, calls := 0.0, 0
	for _, k := range r.Kernels {
		total += k.Ms
		calls += k.Calls
	}
	fmt.Fprintf(w, "    %d launches per run, %.3f ms of kernel time per run (%d profiled runs):\n",
		calls/r.ProfiledRuns, total, r.ProfiledRuns)
	for i, k := range r.Kernels {
		if i == top {
			fmt.Fprintf(w, "    ... %d more kernels\n", len(r.Kernels)-top)
			break
		}
		share := 0.0
		if total > 0 {
			share = 100 * k.Ms / total
		}
		fmt.Fprintf(w, "    %-44s %7.1f calls %9.3f ms %5.1f%%\n", k.Kernel, float64(k.Calls)/float64(r.ProfiledRuns), k.Ms, share)
	}
}
