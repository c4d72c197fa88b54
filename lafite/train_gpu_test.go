package lafite

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/autograd"
	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
	"github.com/lafite-go/lafite/tensor"
)

// TestTrainStepOnEmulatedGPUHasNoRoundTrips: see stepsMatchOnGPU; the image
// encoder is projectionFeatures.
func TestTrainStepOnEmulatedGPUHasNoRoundTrips(t *testing.T) {
	cfg, data, _ := tinySetup(t)
	cfg.TrainablePerturbation = 0.3 // the learned perturbation too
	e := emu.New()
	defer tensor.UseCUDABackend(tensor.WithCachingAllocator(e), e.Props())()
	stepsMatchOnGPU(t, cfg, data, projectionFeatures, emulatedLossTol)
}

// projectionFeatures is a stand-in image encoder on dev with GPU kernels
// throughout (tinySetup's average pooling has none): a fixed projection of
// the whole 16x16 image.
func projectionFeatures(dev tensor.Device) CLIPImageFeatures {
	p := autograd.Const(tensor.NewRNG(5).Normal(3*16*16, tinyF).To(dev))
	return func(img *autograd.Var, _ *tensor.RNG) *autograd.Var {
		return rowNormalize(autograd.Matmul(autograd.Reshape(img, img.Size(0), -1), p))
	}
}

// TestTrainStepWithCLIPCropOnEmulatedGPU is the same check with the real
// CLIP image path of the generator's loss: CLIPEncoder.ImageFeatures, i.e.
// clip.TrainTransform (a random crop by Narrow, bicubic resize to the CLIP
// resolution, normalisation) into a tiny ViT moved with clip.Model.To.
// The crop and resize and their gradients must run on the GPU.
func TestTrainStepWithCLIPCropOnEmulatedGPU(t *testing.T) {
	cfg, data, _ := tinySetup(t)
	e := emu.New()
	defer tensor.UseCUDABackend(tensor.WithCachingAllocator(e), e.Props())()
	stepsMatchOnGPU(t, cfg, data, tinyCLIPOn, emulatedLossTol)
	ran := strings.Join(e.Launches(), " ")
	for _, k := range []string{"resize_bicubic_f32=", "resize_bicubic_adj_f32="} {
		if !strings.Contains(ran, k) {
			t.Errorf("kernel %s never launched: %s", strings.TrimSuffix(k, "="), ran)
		}
	}
}

// TestTrainStepOnGPUMatchesCPU is the same check on a real GPU (skipped
// without one), with the real CLIP crop path: the first two steps of a
// fixed-seed run give the host's losses within realGPULossTol.
func TestTrainStepOnGPUMatchesCPU(t *testing.T) {
	if err := tensor.CUDAAvailable(); err != nil {
		t.Skip("no GPU: " + err.Error())
	}
	if _, err := tensor.CUDADevice(); err != nil {
		t.Skip("no GPU: " + err.Error())
	}
	cfg, data, _ := tinySetup(t)
	cfg.TrainablePerturbation = 0.3
	// Autotuning (on by default on a card) times candidates by CUDA events
	// inside the first step; the losses must not notice.
	defer tensor.SetCUDAAutotune(true)()
	stepsMatchOnGPU(t, cfg, data, tinyCLIPOn, realGPULossTol)
	byOp := map[string]int{}
	for _, c := range tensor.CUDAAutotuneReport() {
		byOp[c.Op]++
	}
	t.Logf("autotuned shapes by op: %v", byOp)
	noWrongCandidates(t)
	if byOp["gemm"] == 0 || byOp["conv forward"] == 0 {
		t.Errorf("the step tuned no GEMM or no conv: %v", byOp)
	}
}

// tinyCLIPOn is the real CLIP image path (CLIPEncoder.ImageFeatures) of a
// one-layer ViT on dev. Resolution 16 on 16-pixel images: a crop of 8..15
// pixels, resized up.
func tinyCLIPOn(dev tensor.Device) CLIPImageFeatures {
	cc := clip.Config{EmbedDim: tinyF, ImageResolution: 16, VisionLayers: 1, VisionWidth: 16, VisionPatch: 8, VisionHeads: 2,
		ContextLength: 8, VocabSize: 10, TextWidth: 16, TextHeads: 2, TextLayers: 1}
	m := clip.New(cc, tensor.NewRNG(1))
	m.To(dev)
	return NewCLIPEncoder(m, nil).ImageFeatures()
}

const (
	// emulatedLossTol: the emulator runs the CPU arithmetic, so only float32
	// summation order and the composed demodulation differ.
	emulatedLossTol = 1e-5
	// realGPULossTol: the real kernels round differently (other GEMM tiling,
	// fused reductions, FMA contraction); two steps of Adam carry those
	// float32 differences into the second step's losses.
	realGPULossTol = 1e-3
)

// stepsMatchOnGPU runs the first three training steps (steps 0 and 2 with
// path length and R1, step 1 without: tinySetup's intervals are 2) on the
// host and on the GPU (the emulator, in tests) from the same seed, with the
// image encoder clipOn(device) builds. On the GPU a step must run no op on
// the host (no CUDA fallback) and make exactly one device-to-host copy: the
// loss values and the path-length mean, read together at its end. Its
// uploads are the batch (images, conditions, image features) and, in the
// first step only, the scalar constants met. After the first step no step
// allocates device memory: the caching allocator serves every request from
// the blocks the first step freed (checked where the backend counts device
// allocations: a card, or a stand-in behind tensor.WithCachingAllocator).
//
// The emulator computes each kernel with the CPU reference arithmetic, so
// the loss comparison checks wiring (same noise, same terms, same updates),
// not the real kernels' rounding: the two runs differ only by float32
// summation order and the GPU path's composed demodulation, and agree to
// lossTol relative to max(1, |loss|).
func stepsMatchOnGPU(t *testing.T, cfg TrainConfig, data Dataset, clipOn func(tensor.Device) CLIPImageFeatures, lossTol float64) {
	t.Helper()
	host, err := NewTrainer(cfg, data, clipOn(tensor.CPU))
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := NewTrainer(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	gpu.To(tensor.CUDA)
	gpu.CLIP = clipOn(tensor.CUDA)
	if cfg.GRegInterval != 2 || cfg.DRegInterval != 2 {
		t.Fatalf("regularisation intervals %d, %d: the steps below assume 2", cfg.GRegInterval, cfg.DRegInterval)
	}
	var live0 int64

	for step := 0; step < 3; step++ {
		want, err := host.TrainStep()
		if err != nil {
			t.Fatal(err)
		}
		f0, c0 := tensor.CUDAFallbackTotal(), tensor.CUDATransfers()
		a0, counted := tensor.CUDADeviceAllocs()
		got, err := gpu.TrainStep()
		if err != nil {
			t.Fatal(err)
		}
		if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
			t.Errorf("step %d: %d host fallbacks on the GPU (%s)", step, n, strings.Join(tensor.CUDAFallbacks(), " "))
		}
		c := tensor.CUDATransfers().Sub(c0)
		plMean := int64(1 - step%2) // the path-length mean rides along in regularisation steps
		if c.DtoH != 1 || c.DtoHBytes != 4*(int64(len(want))+plMean) {
			t.Errorf("step %d: %d device-to-host copies of %d bytes, want one of the %d loss values and the path-length mean", step, c.DtoH, c.DtoHBytes, len(want))
		}
		t.Logf("step %d: host-to-device copies %d (%d bytes), device-to-host %d (%d bytes)", step, c.HtoD, c.HtoDBytes, c.DtoH, c.DtoHBytes)
		if step > 0 && c.HtoD != 3 {
			t.Errorf("step %d: %d host-to-device copies, want 3 (images, conditions, image features)", step, c.HtoD)
		}
		// After the first step (which caches its scalar constants on the
		// GPU), a step frees all it allocates: what stays live is the state.
		if live, _ := tensor.CUDAMemoryStats(); step == 0 {
			live0 = live
		} else if live != live0 {
			t.Errorf("step %d: GPU memory live %d bytes after the step, %d before", step, live, live0)
		}
		if a1, _ := tensor.CUDADeviceAllocs(); counted {
			t.Logf("step %d: %d device allocations", step, a1-a0)
			if step > 0 && a1 != a0 {
				t.Errorf("step %d: %d device allocations after the first step, want none", step, a1-a0)
			}
		}
		var keys []string
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(got) != len(want) {
			t.Errorf("step %d: GPU parts %v, host parts %v", step, got, want)
		}
		worst := 0.0
		for _, k := range keys {
			g, ok := got[k]
			worst = math.Max(worst, math.Abs(g-want[k])/math.Max(1, math.Abs(want[k])))
			if d := math.Abs(g - want[k]); !ok || !(d <= lossTol*math.Max(1, math.Abs(want[k]))) {
				t.Errorf("step %d: %s = %v on the GPU, %v on the host", step, k, g, want[k])
			}
		}
		t.Logf("step %d: %d loss values, worst difference %.2g (relative to max(1, |loss|))", step, len(got), worst)
	}
	if d := math.Abs(float64(gpu.PLMean - host.PLMean)); !(d <= lossTol*math.Max(1, math.Abs(float64(host.PLMean)))) || host.PLMean == 0 {
		t.Errorf("path-length mean %v on the GPU, %v on the host", gpu.PLMean, host.PLMean)
	}
}

// TestTrainStepOnHostSimMatchesCPU is the real-GPU check with the real
// kernels compiled for the host (kernels/cuda/hostsim): every kernel of the
// step, as the GPU would run it, gives the host's losses within
// realGPULossTol.
func TestTrainStepOnHostSimMatchesCPU(t *testing.T) {
	dev := hostsim.ForTest(t)
	defer tensor.UseCUDABackend(tensor.WithCachingAllocator(dev), dev.Props())()
	// With autotuning on, as on a card: whichever candidate each shape's
	// timing picks must give the same losses.
	defer tensor.SetCUDAAutotune(true)()
	tensor.ResetCUDAAutotune()
	defer tensor.ResetCUDAAutotune()
	cfg, data, _ := tinySetup(t)
	cfg.TrainablePerturbation = 0.3
	stepsMatchOnGPU(t, cfg, data, tinyCLIPOn, realGPULossTol)
	tuned := map[string]int{}
	for _, c := range tensor.CUDAAutotuneReport() {
		tuned[c.Op]++
	}
	for _, op := range []string{"conv forward", "conv input grad", "conv weight grad", "modconv forward", "gemm", "upfirdn2d"} {
		if tuned[op] == 0 {
			t.Errorf("no %s was tuned in the step (tuned: %v)", op, tuned)
		}
	}
	noWrongCandidates(t)
}

// noWrongCandidates fails the test for every autotuned candidate that ran
// but whose result differed from the rules' candidate's: a variant that is
// wrong on a shape of the step (or a tolerance too tight for its rounding).
func noWrongCandidates(t *testing.T) {
	t.Helper()
	for _, c := range tensor.CUDAAutotuneReport() {
		for name, why := range c.Failed {
			if strings.Contains(why, "result differs") {
				t.Errorf("%s %s: candidate %s: %s", c.Op, c.Shape, name, why)
			}
		}
	}
}
