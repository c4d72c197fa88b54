package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda"
	"github.com/lafite-go/lafite/kernels/cuda/dryrun"
	"github.com/lafite-go/lafite/tensor"
)

func traceOf(t *testing.T, name string) Trace {
	t.Helper()
	ws, err := SelectOn(tensor.CUDA, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := TraceGPU(ws[0], H200, H200Peaks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTraceCountsGemmAndConvWork: a GEMM's and a Winograd convolution's
// FLOPs and bytes as counted by hand.
func TestTraceCountsGemmAndConvWork(t *testing.T) {
	tr := traceOf(t, "sgemm_1024")
	const n = 1024.0
	if tr.Launches != 1 || tr.GFLOP != 2*n*n*n/1e9 || tr.GB != 3*4*n*n/1e9 {
		t.Fatalf("sgemm_1024: %+v", tr)
	}
	if want := max(2*n*n*n/(H200Peaks.GFLOPS*1e6), 3*4*n*n/(H200Peaks.GBPS*1e6)); math.Abs(tr.FloorMs-want) > 1e-12 {
		t.Errorf("floor %g ms, want %g", tr.FloorMs, want)
	}
	// 3x3, N4, 512 -> 512 channels, 16x16: the rules take Winograd
	// F(4x4,3x3), 36 multiplies per 4x4 tile where the direct sum takes
	// 16*9: a quarter of the direct 2*4*512*512*9*256 FLOPs, in GEMMs.
	tr = traceOf(t, "conv3x3_n4_c512_16")
	direct := 2 * 4 * 512 * 512 * 9 * 256.0
	var gemm float64
	for _, k := range tr.Kernels {
		if k.Kernel == "wino_input_f32" || k.Kernel == "wino_output_f32" {
			if k.Launches != 1 || k.GFLOP != 0 || k.GB == 0 {
				t.Errorf("transform %+v", k)
			}
		}
		gemm += k.GFLOP
	}
	if math.Abs(gemm*1e9-direct/4) > 1e-6*direct {
		t.Errorf("Winograd GEMMs %.4g FLOP, want %.4g", gemm*1e9, direct/4)
	}
}

// TestTraceOfTheTrainingStep runs the 64x64, batch-16 training step's cycle
// at full size on the dry-run device: one download and three uploads per
// step, as on a card, and the cycle's kinds of step in their proportions
// (path length every 4 steps, R1 every 16, the first having both).
func TestTraceOfTheTrainingStep(t *testing.T) {
	tr := traceOf(t, "lafite_train_step_64_b16")
	if tr.Runs != 16 || len(tr.PerRun) != 16 {
		t.Fatalf("runs %d", tr.Runs)
	}
	if tr.Transfers.DtoH != 16 || tr.Transfers.HtoD != 48 {
		t.Errorf("host copies %+v: want 16 down and 48 up", tr.Transfers)
	}
	if !(tr.HostMsMedian > 0) { // measured, not judged: timings belong to benchmarks
		t.Errorf("host time per step %v ms: not measured", tr.HostMsMedian)
	}
	plain, pl := tr.PerRun[1].GFLOP, tr.PerRun[4].GFLOP
	for i, r := range tr.PerRun {
		want := plain
		switch {
		case i == 0:
			want = -1 // path length and R1
		case i%4 == 0:
			want = pl
		}
		if want > 0 && math.Abs(r.GFLOP-want) > 1e-9*want {
			t.Errorf("run %d: %.1f GFLOP, want %.1f", i, r.GFLOP, want)
		}
	}
	if !(tr.PerRun[0].GFLOP > pl && pl > plain && plain > 1000) {
		t.Errorf("GFLOP: R1 and path length %.0f, path length %.0f, plain %.0f", tr.PerRun[0].GFLOP, pl, plain)
	}
	t.Logf("plain step: %d launches, %.0f GFLOP, %.1f GB, floor %.1f ms on an H200", tr.PerRun[1].Launches, plain, tr.PerRun[1].GB, tr.PerRun[1].FloorMs)
	// The callers split the same work: Adam's steps come from the optimizer,
	// a backward pass says so, and together they add up to the totals.
	var launches, floor float64
	adam, backward := false, false
	for _, c := range tr.Callers {
		launches += c.Launches
		floor += c.FloorMs
		adam = adam || c.Kernel == "adam_multi_f32" && c.Caller == "nn.(*Adam).UpdateScaled"
		backward = backward || strings.HasPrefix(c.Caller, "backward, from lafite.")
	}
	if math.Abs(launches-tr.Launches) > 1e-6*tr.Launches || math.Abs(floor-tr.FloorMs) > 1e-6*tr.FloorMs || !adam || !backward {
		t.Errorf("callers: %.1f launches, %.2f ms (totals %.1f, %.2f); Adam attributed %v, a backward %v", launches, floor, tr.Launches, tr.FloorMs, adam, backward)
	}
}

// TestTrainingStepAllocatesNothingAfterTheFirst: at full size, behind the
// device's caching allocator, the steps after the first (which has path
// length and R1, the most of everything) allocate no device memory, through
// a whole regularisation cycle and into the next; with autotuning off (the
// rules) and on (as on a card, where the first step also tunes). With it
// on, the first step runs every candidate of every tuned shape (the dry
// run's clock picks arbitrarily): each launch passes cuda.CheckLaunch and
// no candidate fails.
func TestTrainingStepAllocatesNothingAfterTheFirst(t *testing.T) {
	ws, err := SelectOn(tensor.CUDA, []string{"lafite_train_step_64_b16"})
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	for _, tune := range []bool{false, true} {
		d := dryrun.New(H200)
		restore := tensor.UseCUDABackend(tensor.WithCachingAllocator(d), H200)
		restoreTune := tensor.SetCUDAAutotune(tune)
		tensor.ResetCUDAAutotune()
		tracing.Store(true)
		scope := tensor.OpenScope()
		step := scopedRun(w)
		step()
		if tune {
			checkEveryOpTuned(t)
		}
		a0, _ := tensor.CUDADeviceAllocs()
		for i := 1; i <= w.Cycle+1; i++ {
			step()
			if a, _ := tensor.CUDADeviceAllocs(); a != a0 {
				t.Errorf("autotune %v, step %d: %d device allocations after the first step's %d", tune, i, a-a0, a0)
				break
			}
		}
		live, peak := tensor.CUDAMemoryStats()
		t.Logf("autotune %v: %d device allocations, all in the first step; %.2f GB live between steps, %.2f GB at peak",
			tune, a0, float64(live)/1e9, float64(peak)/1e9)
		scope.Close()
		tracing.Store(false)
		tensor.ResetCUDAAutotune()
		restoreTune()
		restore()
	}
}

// checkEveryOpTuned fails on any failed autotuning candidate and on a kind
// of op the training step has that was not tuned.
func checkEveryOpTuned(t *testing.T) {
	t.Helper()
	byOp := map[string]int{}
	for _, c := range tensor.CUDAAutotuneReport() {
		byOp[c.Op]++
		for name, why := range c.Failed {
			t.Errorf("%s %s: candidate %s failed: %s", c.Op, c.Shape, name, why)
		}
	}
	t.Logf("tuned shapes by op: %v", byOp)
	for _, op := range []string{"conv forward", "conv input grad", "conv weight grad", "modconv forward", "gemm", "upfirdn2d"} {
		if byOp[op] == 0 {
			t.Errorf("no %s shape was tuned", op)
		}
	}
}

// TestEveryVariantLaunchesAtFullSize traces the generator's and the
// discriminator's forward and backward at full size with each way the
// engine can run their ops forced in turn (what autotuning times on a
// card): every launch must pass cuda.CheckLaunch (block against the
// kernel's launch bounds, grid limits, shared memory, argument types) at
// the real shapes, which the shrunk emulator runs do not reach.
func TestEveryVariantLaunchesAtFullSize(t *testing.T) {
	variants := []struct {
		name string
		set  func() func()
	}{
		{"rules", func() func() { return func() {} }},
		{"direct convs", func() func() { t.Setenv("LAFITE_CUDA_WINOGRAD", "0"); return func() {} }},
		{"winograd F(2x2,3x3)", func() func() { t.Setenv("LAFITE_CUDA_WINOGRAD", "2"); return func() {} }},
		{"direct 64 tile", func() func() {
			t.Setenv("LAFITE_CUDA_WINOGRAD", "0")
			prev := tensor.SetCUDAConvTile(cuda.ConvTile64)
			return func() { tensor.SetCUDAConvTile(prev) }
		}},
		{"direct 128 tile", func() func() {
			t.Setenv("LAFITE_CUDA_WINOGRAD", "0")
			prev := tensor.SetCUDAConvTile(cuda.ConvTile128)
			return func() { tensor.SetCUDAConvTile(prev) }
		}},
		{"gemm bk16", func() func() {
			prev := tensor.SetCUDAGemmKernel("bk16")
			return func() { tensor.SetCUDAGemmKernel(prev) }
		}},
		{"gemm t64", func() func() {
			prev := tensor.SetCUDAGemmKernel("t64")
			return func() { tensor.SetCUDAGemmKernel(prev) }
		}},
		{"upfirdn2d tiled", func() func() {
			prev := tensor.SetCUDAUpfirdnTiled(true)
			return func() { tensor.SetCUDAUpfirdnTiled(prev) }
		}},
	}
	kernels := map[string]map[string]bool{} // variant -> kernels launched
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			defer v.set()()
			kernels[v.name] = map[string]bool{}
			for _, name := range []string{"lafite_g64_b16_fwdbwd", "lafite_d64_b16_fwdbwd", "modconv_up2_n4_c512_32"} {
				tr := traceOf(t, name)
				if tr.Launches == 0 || tr.GFLOP == 0 {
					t.Errorf("%s: %+v", name, tr)
				}
				for _, k := range tr.Kernels {
					kernels[v.name][k.Kernel] = true
				}
			}
		})
	}
	// Each setting took effect: its kernels ran, the others' did not.
	for v, want := range map[string]string{"rules": "wino_input_f32", "direct 64 tile": "conv2d_fwd_f32",
		"direct 128 tile": "conv2d_fwd128_f32", "gemm bk16": "sgemm_128x128x16_f32", "gemm t64": "sgemm_64x64x16_f32",
		"upfirdn2d tiled": "upfirdn2d_down2_f4_tiled_f32"} {
		if !kernels[v][want] {
			t.Errorf("%s: %s never launched", v, want)
		}
	}
	for _, v := range []string{"direct convs", "direct 64 tile", "direct 128 tile"} {
		if kernels[v]["wino_input_f32"] {
			t.Errorf("%s: the Winograd path ran", v)
		}
	}
	if kernels["direct 64 tile"]["conv2d_fwd128_f32"] || kernels["direct 128 tile"]["conv2d_fwd_f32"] {
		t.Error("a forced conv tile was not the only one")
	}
}

// A grid's wave efficiency: 576 blocks at 2 per SM on 132 SMs need 3 waves
// of 264 slots (73%); 264 fill one exactly; unknown residency gives 0.
func TestWaveEfficiency(t *testing.T) {
	for _, c := range []struct {
		grid  cuda.Dim3
		perSM int
		want  float64
	}{
		{cuda.D3(4, 4, 36), 2, 576.0 / 792}, {cuda.D3(132, 2, 1), 2, 1}, {cuda.D3(7, 12, 1), 3, 84.0 / 396}, {cuda.D3(8, 1, 1), 0, 0},
	} {
		if got := waveEfficiency(dryrun.Launch{Grid: c.grid}, 132, c.perSM); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("grid %v at %d per SM: %v, want %v", c.grid, c.perSM, got, c.want)
		}
	}
}
