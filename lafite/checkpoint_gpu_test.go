package lafite

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/nn"
	"github.com/lafite-go/lafite/tensor"
)

// TestCheckpointOfEmulatedGPURun is what `lafite train --device cuda` does at
// a snapshot and on --resume: two steps on the (emulated) GPU, Save, load on
// the host — the same parameters, moments and counters bit for bit as the
// device copy — then move the loaded trainer to the GPU, where its next step
// equals the uninterrupted run's. No op falls back to the host. The exported generator, reloaded on the
// host, renders what the device copy renders.
func TestCheckpointOfEmulatedGPURun(t *testing.T) {
	cfg, data, _ := tinySetup(t)
	e := emu.New()
	defer tensor.UseCUDABackend(e, e.Props())()
	tr, err := NewTrainer(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	f0 := tensor.CUDAFallbackTotal()
	tr.To(tensor.CUDA)
	tr.CLIP = projectionFeatures(tensor.CUDA)
	for i := 0; i < 2; i++ {
		if _, err := tr.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "checkpoint.safetensors")
	if err := tr.Save(ckpt); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(ckpt, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(paramsOf(back)) == 0 {
		t.Fatal("loaded trainer has no parameters")
	}
	requireSameBits(t, paramsOf(back), paramsOf(tr))
	requireSameBits(t, momentsOf(back), momentsOf(tr))
	if back.Step != tr.Step || back.ImagesSeen != tr.ImagesSeen || back.OptG.Step != tr.OptG.Step || back.OptD.Step != tr.OptD.Step ||
		math.Float32bits(back.PLMean) != math.Float32bits(tr.PLMean) {
		t.Fatalf("counters: loaded step %d, %d images, pl_mean %v; device run %d, %d, %v",
			back.Step, back.ImagesSeen, back.PLMean, tr.Step, tr.ImagesSeen, tr.PLMean)
	}
	if s0, c0 := back.RNG.State(); true {
		if s1, c1 := tr.RNG.State(); s0 != s1 || c0 != c1 {
			t.Fatalf("RNG state: loaded (%d, %d), device run (%d, %d)", s0, c0, s1, c1)
		}
	}

	// Resume: load on the host, move, continue.
	back.To(tensor.CUDA)
	back.CLIP = projectionFeatures(tensor.CUDA)
	want, err := tr.TrainStep()
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.TrainStep()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("resumed step: parts %v, uninterrupted %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("resumed step: %s = %v, uninterrupted %v", k, got[k], v)
		}
	}
	requireSameBits(t, paramsOf(back), paramsOf(tr))

	// The generator export, and a sample rendered from it on the host.
	gpath := filepath.Join(dir, "generator.safetensors")
	if err := SaveGenerator(gpath, tr.GEma, tr.Cfg); err != nil {
		t.Fatal(err)
	}
	g, err := LoadGenerator(gpath)
	if err != nil {
		t.Fatal(err)
	}
	fts := l2Normalize(tensor.NewRNG(8).Normal(3, tinyF))
	onGPU, err := Generate(tr.GEma, fts, 1234, 1) // host conditions: Generate moves them
	if err != nil {
		t.Fatal(err)
	}
	onHost, err := Generate(g, fts, 1234, 1)
	if err != nil {
		t.Fatal(err)
	}
	if onGPU.Device() != tensor.CUDA || onHost.Device() != tensor.CPU {
		t.Fatalf("images on %v and %v, want cuda and cpu", onGPU.Device(), onHost.Device())
	}
	gs, hs := onGPU.ToSlice(), onHost.ToSlice()
	worst := 0.0
	for i := range hs {
		worst = math.Max(worst, math.Abs(float64(gs[i]-hs[i])))
	}
	if !(worst <= 1e-4) {
		t.Errorf("generated image: GPU and host differ by up to %g", worst)
	}
	if imgs := TensorToImages(onGPU); len(imgs) != 3 {
		t.Fatalf("%d images from the GPU tensor", len(imgs))
	}
	if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
		t.Errorf("%d host fallbacks: %v", n, tensor.CUDAFallbacks())
	}
}

// momentsOf lists both optimizers' Adam moments.
func momentsOf(t *Trainer) []float32 {
	var all []float32
	for _, opt := range []*nn.Adam{t.OptG, t.OptD} {
		m, v := opt.State()
		for i := range m {
			all = append(append(all, m[i].ToSlice()...), v[i].ToSlice()...)
		}
	}
	return all
}
