package cuda

import (
	"os"
	"strings"
)

// Fallback is a GPU code path that an environment switch turns off: the
// paths no card had run when they were written. The GPU check probes each
// alone before anything else and sets the switch of one that fails
// (scripts/gpu-check.sh, gpucheck's TestGPUProbe), since a kernel fault
// leaves a CUDA context unusable for everything after it.
type Fallback struct {
	Probe   string // the GPU check's probe, TestGPUProbe/<Probe>
	Env     string // the switch: Env=Off turns the path off
	Off     string
	What    string   // the path, in words
	Entries []string // its kernels; a name ending in '_' is a prefix
}

// Fallbacks lists the switchable paths, in the order the GPU check probes
// them.
var Fallbacks = []Fallback{
	// First: every later probe's GEMMs may take these tiles. Forcing the
	// 8-k stage tile keeps the tensor-core tiles out of tuning too.
	{"gemm-tiles", "LAFITE_CUDA_GEMM", "bk8", "the 16-k stage and 64x64 FFMA GEMM tiles",
		[]string{"sgemm_128x128x16_f32", "sgemm_64x64x16_f32"}},
	{"tensor-cores", TensorCoresEnv, "0", "tensor-core GEMMs", tensorCoreEntries()},
	{"skinny-gemm", "LAFITE_CUDA_SKINNY_GEMM", "0", "the skinny GEMM kernel (few rows, K split over warps)",
		[]string{"sgemm_skinny_f32"}},
	{"winograd", "LAFITE_CUDA_WINOGRAD", "0", "Winograd convolutions", []string{"wino_"}},
	{"upfirdn-streaming", "LAFITE_CUDA_UPFIRDN", "tiled", "row-streaming upfirdn2d",
		[]string{"upfirdn2d_up2_f4_f32", "upfirdn2d_down2_f4_f32", "upfirdn2d_filter_f4_f32"}},
	{"multi-tensor", "LAFITE_CUDA_MULTI_TENSOR", "0", "multi-tensor Adam and moving average",
		[]string{"adam_multi_f32", "ema_multi_f32"}},
	{"split-k", "LAFITE_CUDA_SPLITK", "0", "split-K GEMMs", nil}, // the GEMM kernels' own, in slices
	{"phase-dgrad", PhaseDgradEnv, "0", "the phase kernel of strided input gradients", []string{"conv2d_dgrad_phase128_f32"}},
}

// Switch is the fallback's switch as NAME=value.
func (f Fallback) Switch() string { return f.Env + "=" + f.Off }

// IsOff reports whether the environment switches the path off.
func (f Fallback) IsOff() bool { return os.Getenv(f.Env) == f.Off }

// Runs reports whether entry is one of the path's kernels.
func (f Fallback) Runs(entry string) bool {
	for _, k := range f.Entries {
		if entry == k || strings.HasSuffix(k, "_") && strings.HasPrefix(entry, k) {
			return true
		}
	}
	return false
}

// FallbackNamed returns the fallback of the GPU check's probe name (one of
// Fallbacks; another name is a programming error and panics).
func FallbackNamed(probe string) Fallback {
	for _, f := range Fallbacks {
		if f.Probe == probe {
			return f
		}
	}
	panic("cuda: no fallback " + probe)
}

// FallbackOf returns the switchable path that kernel entry belongs to.
func FallbackOf(entry string) (Fallback, bool) {
	for _, f := range Fallbacks {
		if f.Runs(entry) {
			return f, true
		}
	}
	return Fallback{}, false
}

// tensorCoreEntries are the entry points of the tensor-core GEMM tiles.
func tensorCoreEntries() []string {
	var e []string
	for _, k := range SgemmKernels {
		if k.TensorCores {
			e = append(e, k.Entry)
		}
	}
	return e
}
