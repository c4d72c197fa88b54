package gpucheck

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/tensor"
)

// Probes: the GPU code paths written without a card run first, each alone
// in a process of its own (scripts/gpu-check.sh runs one TestGPUProbe
// subtest per process). A kernel fault leaves a CUDA context unusable, and
// autotuning tries every candidate, so one bad kernel would otherwise spoil
// every later step of the one run a card is lent for; a probe that fails
// instead turns its path off (its switch) for the rest of the check, which
// then still times and checks everything else, and fails.

// gpuProbe is one such path (cuda.Fallbacks: name, switch, kernels) and
// its check: its conformance cases with the path forced.
type gpuProbe struct {
	cuda.Fallback
	run func(rep *gpuReport, seed uint64)
}

// probeRuns are the probes' checks, by cuda.Fallback.Probe.
var probeRuns = map[string]func(rep *gpuReport, seed uint64){
	"gemm-tiles": func(rep *gpuReport, seed uint64) {
		for _, k := range cuda.SgemmKernelsFor(gpuCC()) {
			if !k.TensorCores && k.Name != "bk8" {
				with(tensor.SetCUDAGemmKernel, k.Name, rerunCases(rep, seed, "@"+k.Name, "matmul"))()
			}
		}
	},
	"tensor-cores": func(rep *gpuReport, seed uint64) {
		for _, k := range cuda.SgemmKernelsFor(gpuCC()) {
			if k.TensorCores {
				with(tensor.SetCUDAGemmKernel, k.Name, rerunCases(rep, seed, "@"+k.Name, "matmul"))()
			}
		}
	},
	"skinny-gemm": func(rep *gpuReport, seed uint64) {
		with(tensor.SetCUDASkinnyGemm, true, rerunCases(rep, seed, "@skinny", "matmul", "linear"))()
	},
	// The stride-2 cases run by phases under either tile.
	"winograd": func(rep *gpuReport, seed uint64) {
		for _, tile := range []int{cuda.ConvWinograd4, cuda.ConvWinograd2} {
			with(tensor.SetCUDAConvTile, tile, rerunCases(rep, seed, fmt.Sprintf("@winograd%d", tile), "conv", "modconv"))()
		}
	},
	"upfirdn-streaming": func(rep *gpuReport, seed uint64) {
		with(tensor.SetCUDAUpfirdnTiled, false, rerunCases(rep, seed, "", "upsample2d", "downsample2d", "filter2d", "upfirdn2d"))()
	},
	"multi-tensor": func(rep *gpuReport, seed uint64) {
		multiTensorUpdates(rep, rand.New(rand.NewPCG(seed, 99)))
	},
	"split-k": func(rep *gpuReport, seed uint64) {
		with(tensor.SetCUDASplitK, 2, rerunCases(rep, seed, "@splitk2", "matmul", "linear"))()
	},
	// The planner's choice for the small cases: direct kernels, the phase
	// kernel for every strided input gradient (and transposed conv).
	"phase-dgrad": func(rep *gpuReport, seed uint64) {
		rerunCases(rep, seed, "", "conv")()
	},
}

func gpuProbes() []gpuProbe {
	var ps []gpuProbe
	for _, f := range cuda.Fallbacks {
		run := probeRuns[f.Probe]
		if run == nil {
			panic("gpucheck: no probe for the fallback " + f.Probe)
		}
		ps = append(ps, gpuProbe{f, run})
	}
	return ps
}

// switchedOff returns the switch (NAME=value) that keeps the probe's path
// off in this process, or "" when the path is on.
func switchedOff(probe string) string {
	if f := cuda.FallbackNamed(probe); f.IsOff() {
		return f.Switch()
	}
	return ""
}

// runProbe runs one probe with every new allocation poisoned and the
// rules' choices (no autotuning: the path is forced).
func runProbe(rep *gpuReport, p gpuProbe, seed uint64) {
	tensor.SetCUDAPoison(true)
	defer tensor.SetCUDAPoison(false)
	defer tensor.SetCUDAAutotune(false)()
	p.run(rep, seed)
}

// TestGPUProbe runs the probes on the GPU, one subtest each (run.sh: one a
// process). A probe with nothing to run (the tensor cores before sm_80) is
// skipped.
func TestGPUProbe(t *testing.T) {
	requireGPU(t)
	seed := uint64(time.Now().UnixNano())
	for _, p := range gpuProbes() {
		t.Run(p.Probe, func(t *testing.T) {
			rep := &gpuReport{out: os.Stdout}
			runProbe(rep, p, seed)
			fmt.Printf("gpu probe %s: %d passed, %d failed (seed %d; a failure turns it off: %s)\n", p.Probe, rep.passed, rep.failed, seed, p.Switch())
			if rep.passed+rep.failed == 0 {
				t.Skipf("nothing to probe on this GPU (compute %d)", gpuCC())
			}
			for _, f := range rep.failures {
				t.Error(f)
			}
		})
	}
}

// TestGPUProbesEmulated runs every probe on the kernel emulator: each
// compares something and passes.
func TestGPUProbesEmulated(t *testing.T) {
	dev, restore := emulate() // compute 8.0: the tensor-core probe runs
	defer restore()
	for _, p := range gpuProbes() {
		var log strings.Builder
		rep := &gpuReport{out: &log}
		before := launchCounts(dev.Launches())
		runProbe(rep, p, 3)
		if rep.failed > 0 || rep.passed == 0 {
			t.Errorf("probe %s on the emulator: %d passed, %d failed\n%s", p.Probe, rep.passed, rep.failed, log.String())
		}
		ran := map[string]bool{}
		for entry, n := range launchCounts(dev.Launches()) {
			for _, k := range p.Entries {
				if n > before[entry] && (cuda.Fallback{Entries: []string{k}}).Runs(entry) {
					ran[k] = true
				}
			}
		}
		if len(ran) != len(p.Entries) {
			t.Errorf("probe %s ran %v of its kernels %v", p.Probe, ran, p.Entries)
		}
	}
}

// TestProbesInGPUCheckScript: scripts/gpu-check.sh runs every probe and
// sets each one's switch when it fails, as cuda.Fallbacks lists them.
func TestProbesInGPUCheckScript(t *testing.T) {
	script, err := os.ReadFile("../scripts/gpu-check.sh")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*probe ([a-z-]+) ([A-Z_]+=[a-z0-9]+)\s*$`).FindAllStringSubmatch(string(script), -1) {
		listed[m[1]] = m[2]
	}
	for _, p := range gpuProbes() {
		if got, ok := listed[p.Probe]; !ok || got != p.Switch() {
			t.Errorf("gpu-check.sh: want the line `probe %s %s`, found %q", p.Probe, p.Switch(), got)
		}
		delete(listed, p.Probe)
	}
	for name := range listed {
		t.Errorf("gpu-check.sh probes %s, which TestGPUProbe does not have", name)
	}
}

// TestConformanceHonoursSwitches: with every probe's switch set, as after
// failed probes, the suite forces none of their kernels (each would fault
// again on the card) and says what it left out.
func TestConformanceHonoursSwitches(t *testing.T) {
	for _, f := range cuda.Fallbacks {
		t.Setenv(f.Env, f.Off)
	}
	dev, restore := emulate()
	defer restore()
	var log strings.Builder
	rep := runConformance(&log, 2)
	if rep.failed > 0 || rep.passed < 300 {
		t.Fatalf("%d passed, %d failed", rep.passed, rep.failed)
	}
	for _, l := range dev.Launches() {
		entry, _, _ := strings.Cut(l, "=")
		for _, p := range gpuProbes() {
			if p.Runs(entry) {
				t.Errorf("%s ran though %s is set", l, p.Switch())
			}
		}
	}
	if len(rep.skipped) != 5 { // Winograd, the FFMA tiles, the tensor cores, split-K, the skinny GEMM reruns
		t.Errorf("skipped: %q", rep.skipped)
	}
	// The timing table leaves the forced rows of those paths untimed.
	tm := &timer{t: t, div: 64}
	off := 0
	for _, r := range tm.ops() {
		if r.off != "" {
			off++
		}
	}
	if off < 10 {
		t.Errorf("%d timing rows left untimed with every path off", off)
	}
}

// launchCounts maps each entry of an emu.Device.Launches list ("entry=n")
// to its count.
func launchCounts(list []string) map[string]int {
	m := map[string]int{}
	for _, l := range list {
		entry, n, _ := strings.Cut(l, "=")
		m[entry], _ = strconv.Atoi(n)
	}
	return m
}
