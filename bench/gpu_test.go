package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
	"github.com/lafite-go/lafite/tensor"
)

// The GPU workloads against the kernel emulator (kernels/cuda/emu), shrunk:
// this checks their wiring — every input on the device, every op with a GPU
// kernel (no host fallback), the timing loop and the record — not the
// kernels' speed or arithmetic, which need a GPU (.gpu/run.sh).

func emulateGPU(t *testing.T) {
	e := emu.New()
	t.Cleanup(tensor.UseCUDABackend(e, e.Props()))
}

// TestGPUWorkloadsRunOnEmulator runs every GPU workload once at a reduced
// size (sizes divided by 16; the models as 16x16 networks of 16 channels,
// CLIP as a one-layer tower of width 32), through the device's caching
// allocator: after the warm-up run, the timed run allocates no device memory.
func TestGPUWorkloadsRunOnEmulator(t *testing.T) {
	e := emu.New()
	t.Cleanup(tensor.UseCUDABackend(tensor.WithCachingAllocator(e), e.Props()))
	runGPUWorkloads(t, "emulated GPU", "emulator")
}

// TestGPUWorkloadsRunOnHostSim runs them on the real kernels compiled for
// the host (kernels/cuda/hostsim): no fault, misaligned vector load or
// out-of-bounds access anywhere in them.
func TestGPUWorkloadsRunOnHostSim(t *testing.T) {
	d := hostsim.ForTest(t)
	t.Cleanup(tensor.UseCUDABackend(tensor.WithCachingAllocator(d), d.Props()))
	runGPUWorkloads(t, d.Props().Name, "host simulator")
}

func runGPUWorkloads(t *testing.T, gpuName, where string) {
	ws := WorkloadsOn(tensor.CUDA)
	want := []string{"bias_lrelu_n4_c512_64_fwdbwd", "clip_text_b8", "clip_vitb32_b8", "conv3x3_n4_c256_64_fwdbwd",
		"conv3x3_n4_c512_16", "inception_v3_b8", "lafite_d64_b16_fwdbwd", "lafite_d64_b4_fwdbwd", "lafite_g64_b16_fwdbwd",
		"lafite_g64_b4_fwdbwd", "lafite_train_step_64_b16", "modconv_n16_c512_32_fwdbwd", "modconv_n4_c512_32_fwdbwd", "modconv_up2_n4_c512_32",
		"sgemm_1024", "sgemm_4096x512x512", "upsample2d_n4_c512_32"}
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("GPU workloads %v, want %v", names, want)
	}
	for _, w := range ws {
		start := time.Now()
		f0 := tensor.CUDAFallbackTotal()
		live0, _ := tensor.CUDAMemoryStats()
		w.Cycle = 0 // one step of the training-step workload is enough here
		r, err := RunGPU(w, Options{Shrink: 16, WarmUp: 1, MinRuns: 1, MaxRuns: 1, MinTime: time.Nanosecond})
		if err != nil {
			t.Fatalf("%s: %v", w.Name, err)
		}
		if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
			t.Errorf("%s: %d host fallbacks (%s)", w.Name, n, strings.Join(tensor.CUDAFallbacks(), " "))
		}
		// Everything but the scalar constants cached for the process is freed.
		if live, _ := tensor.CUDAMemoryStats(); live-live0 > 1024 {
			t.Errorf("%s: %d bytes of GPU memory still live after the run", w.Name, live-live0)
		}
		if r.Device != "cuda" || r.GPU != gpuName || r.Timer != "wall" || r.Runs != 1 || !(r.MedianMs > 0) || r.Workload != w.Name {
			t.Errorf("%s: record %+v", w.Name, r)
		}
		if r.DeviceAllocs == nil || *r.DeviceAllocs != 0 {
			t.Errorf("%s: device allocations in the timed run: %v, want a count of 0", w.Name, r.DeviceAllocs)
		}
		t.Logf("%-30s %6.0f ms on the %s", w.Name, float64(time.Since(start).Microseconds())/1e3, where)
	}
}

func TestRunGPUCyclesAndErrors(t *testing.T) {
	if _, err := RunGPU(Workload{Name: "cpu_only", Setup: sgemmSetup(1, 1, 1)}, Options{}); err == nil {
		t.Error("RunGPU of a CPU-only workload succeeded")
	}
	if tensor.CUDAAvailable() != nil {
		if _, err := RunGPU(Workload{Name: "x", GPU: onGPU(sgemmGPUSetup(8, 8, 8))}, Options{}); err == nil {
			t.Error("RunGPU without a GPU succeeded")
		}
	}
	emulateGPU(t)
	calls := 0
	w := Workload{Name: "test_cycle", Cycle: 4, GPU: func(int) (func(), float64, float64) {
		return func() { calls++ }, 1e6, 0
	}}
	r, err := RunGPU(w, Options{WarmUp: 1, MinRuns: 5, MinTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs != 8 || calls != 12 {
		t.Errorf("cycle of 4, 5 runs asked: %d timed runs, %d calls; want 8 and 12 (a whole cycle of warm-up)", r.Runs, calls)
	}
	if _, err := SelectOn(tensor.CPU, []string{"lafite_train_step_64_b16"}); err == nil || !strings.Contains(err.Error(), "does not run on cpu") {
		t.Errorf("selecting a GPU-only workload for the CPU: %v", err)
	}
}

// A workload's record lists the shapes it had tuned during its warm-up;
// the next run of the same shapes tunes nothing.
func TestRunGPUReportsAutotuneChoices(t *testing.T) {
	emulateGPU(t)
	defer tensor.SetCUDAAutotune(true)()
	tensor.ResetCUDAAutotune()
	defer tensor.ResetCUDAAutotune()
	w := Workload{Name: "gemm_128", GPU: onGPU(sgemmGPUSetup(128, 128, 128))}
	opt := Options{WarmUp: 1, MinRuns: 1, MaxRuns: 1, MinTime: time.Nanosecond}
	r, err := RunGPU(w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Autotune) != 1 || r.Autotune[0].Op != "gemm" || r.Autotune[0].Chosen == "" || len(r.Autotune[0].Ms) != len(cuda.SgemmKernels) {
		t.Fatalf("first run's autotune record: %+v", r.Autotune)
	}
	if r, err = RunGPU(w, opt); err != nil || len(r.Autotune) != 0 {
		t.Fatalf("second run tuned again (%v): %+v", err, r.Autotune)
	}
}
