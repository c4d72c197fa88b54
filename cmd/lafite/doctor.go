package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"

	"github.com/lafite-go/lafite/kernels/cpu"
	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
)

func init() {
	register("doctor", "report the CPU, GPU, CUDA driver, NVRTC and kernel cache the engine would use", runDoctor)
}

// simdFeatures are the CPU features the engine's kernels can use, in the
// order printed.
var simdFeatures = []cpuid.FeatureID{
	cpuid.SSE2, cpuid.SSE4, cpuid.SSE42, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.F16C,
	cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI, cpuid.AVX512BF16,
	cpuid.AMXTILE, cpuid.ASIMD, cpuid.ASIMDDP, cpuid.FPHP, cpuid.ASIMDHP, cpuid.SVE,
}

func runDoctor(args []string, stdout io.Writer) error {
	fs := newFlags("doctor", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	writeDoctor(stdout, cpuid.CPU, cuda.Info())
	return nil
}

// writeDoctor prints the report: the CPU, then the GPU set-up as
// cuda.Summary lists it, and last one line saying where kernels run.
func writeDoctor(w io.Writer, c cpuid.CPUInfo, s cuda.Summary) {
	line := func(k, format string, a ...any) {
		fmt.Fprintf(w, "%-14s "+format+"\n", append([]any{k + ":"}, a...)...)
	}
	brand := strings.TrimSpace(c.BrandName)
	if brand == "" {
		brand = "unknown CPU"
	}
	level := ""
	if l := c.X64Level(); l > 0 {
		level = fmt.Sprintf(", x86-64-v%d", l)
	}
	line("cpu", "%s, %d cores, %d threads%s", brand, c.PhysicalCores, c.LogicalCores, level)
	var feats []string
	for _, f := range simdFeatures {
		if c.Supports(f) {
			feats = append(feats, f.String())
		}
	}
	if len(feats) == 0 {
		feats = []string{"(none of the SIMD sets the kernels use)"}
	}
	line("cpu features", "%s", strings.Join(feats, " "))
	line("cpu kernels", "%s", cpu.Settings())
	line("go", "%s %s/%s, GOMAXPROCS %d", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	if os.Getenv("LAFITE_CUDA_DEVICE") == "hostsim" {
		if err := hostsim.Available(); err != nil {
			line("host sim", "LAFITE_CUDA_DEVICE=hostsim, but %v", err)
		} else {
			line("host sim", "LAFITE_CUDA_DEVICE=hostsim: tensors moved with To(tensor.CUDA) run the CUDA kernels on the CPU, compiled by %s (slow; for tests and study)", hostsim.Compiler())
		}
		return
	}
	// The GPU lines end with the one-line reason when the engine runs on the CPU.
	io.WriteString(w, s.String())
	if s.CPUFallback == "" && len(s.Devices) > 0 {
		p := s.Devices[0]
		arch := ""
		if len(s.Targets) > 0 {
			arch = " (kernels for " + s.Targets[0].Arch + ")"
		}
		tune := "on: the first call with each shape times the ways to run it and keeps the fastest (LAFITE_CUDA_AUTOTUNE=0 turns it off)"
		if os.Getenv("LAFITE_CUDA_AUTOTUNE") == "0" {
			tune = "off (LAFITE_CUDA_AUTOTUNE=0): fixed rules pick each op's kernels"
		}
		line("autotune", "%s", tune)
		line("gemm kernels", "%s", gemmKernelsLine(p))
		if off := fallbacksSet(); off != "" {
			line("switched off", "%s", off)
		}
		fmt.Fprintf(w, "GPU ready: tensors moved with To(tensor.CUDA) run on %s%s\n", p.Name, arch)
	}
}

// gemmKernelsLine names the GEMM kernels the autotuner chooses among on
// device p, and why the tensor-core ones are missing where they are.
func gemmKernelsLine(p cuda.DeviceProps) string {
	var names []string
	for _, k := range cuda.SgemmKernelsFor(p.CC()) {
		names = append(names, k.Name)
	}
	s := strings.Join(names, " ")
	switch {
	case len(names) == len(cuda.SgemmKernels):
		s += " (tc*: TF32 tensor cores at float32 accuracy, three products per multiply-add)"
	case p.CC() >= 80 && cuda.TensorCoresOff():
		s += fmt.Sprintf(" (not the tc kernels: %s=0 keeps the GEMMs off the tensor cores)", cuda.TensorCoresEnv)
	default:
		s += fmt.Sprintf(" (compute %d.%d: no TF32 tensor cores, so not the tc kernels, which need 8.0)", p.Major, p.Minor)
	}
	return s
}

// fallbacksSet lists the GPU code paths the environment switches off (the
// GPU check sets these when a path fails its probe), or "".
func fallbacksSet() string {
	var off []string
	for _, f := range cuda.Fallbacks {
		if f.IsOff() {
			off = append(off, fmt.Sprintf("%s (%s)", f.What, f.Switch()))
		}
	}
	return strings.Join(off, ", ")
}
