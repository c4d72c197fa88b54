package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/kernels/cuda/hostsim"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

// TestGenerateOnEmulatedGPU: `lafite generate --device cuda` (text and image
// conditions, mixed) draws the same grid as on the CPU, against the kernel
// emulator (with no op falling back to the host) and against the real
// kernels on the host simulator; without a GPU it stops with one line.
func TestGenerateOnEmulatedGPU(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data)
	runDir := filepath.Join(dir, "run")
	runCLI(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", runDir, "--kimg", "0.008", "--snap", "0.008"}, tinyTrainFlags...)...)
	args := func(out, device string) []string {
		return []string{"generate", "--ckpt", filepath.Join(runDir, "generator.safetensors"), "--clip", clipPath,
			"--prompt", "a red circle", "--prompt", "blue round thing", "--image", filepath.Join(imgDir, "img00.png"),
			"--n", "3", "--seed", "7", "--psi", "0.7", "--device", device, "--out", out}
	}
	if tensor.CUDAAvailable() != nil {
		var out, errb bytes.Buffer
		code := run(args(filepath.Join(dir, "x.png"), "cuda"), &out, &errb)
		if msg := errb.String(); code == 0 || !strings.HasPrefix(msg, "lafite generate: --device cuda: no usable GPU: ") || strings.Count(msg, "\n") != 1 {
			t.Errorf("without a GPU: code %d, stderr %q", code, msg)
		}
	}
	cpuPNG, gpuPNG := filepath.Join(dir, "cpu.png"), filepath.Join(dir, "gpu.png")
	runCLI(t, args(cpuPNG, "cpu")...)
	onEmulatedGPU(t, func() {
		// One pass per shape: generate does not autotune even where tuning
		// is on (as it is by default on a card).
		restoreTuning := tensor.SetCUDAAutotune(true)
		tensor.ResetCUDAAutotune()
		runCLI(t, args(gpuPNG, "cuda")...)
		if r := tensor.CUDAAutotuneReport(); len(r) != 0 {
			t.Errorf("generate autotuned %d shapes, e.g. %+v", len(r), r[0])
		}
		restoreTuning()
	})
	sameGrid(t, "emulated GPU", decodePNG(t, cpuPNG), decodePNG(t, gpuPNG))

	// The same on the real kernels, compiled for the host (kernels/cuda/hostsim).
	hs := hostsim.ForTest(t)
	restore := tensor.UseCUDABackend(hs, hs.Props())
	simPNG := filepath.Join(dir, "sim.png")
	runCLI(t, args(simPNG, "cuda")...)
	restore()
	sameGrid(t, "host-simulated GPU", decodePNG(t, cpuPNG), decodePNG(t, simPNG))
}

// onEmulatedGPU runs run with the kernel emulator as the CUDA device and
// fails the test if an op fell back to the host or if neither the
// generator's convolutions nor CLIP's attention ran on it.
func onEmulatedGPU(t *testing.T, run func()) {
	t.Helper()
	e := emu.New()
	restore := tensor.UseCUDABackend(e, e.Props())
	f0 := tensor.CUDAFallbackTotal()
	run()
	if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
		t.Errorf("%d host fallbacks: %v", n, tensor.CUDAFallbacks())
	}
	launched := strings.Join(e.Launches(), " ")
	restore()
	if !strings.Contains(launched, "conv2d") || !strings.Contains(launched, "attention") && !strings.Contains(launched, "softmax") {
		t.Errorf("the generator and CLIP did not run on the GPU; kernels launched: %s", launched)
	}
}

// sameGrid fails unless two grids match within one 8-bit level: the GPU
// paths sum in other orders than the CPU kernels, so a pixel may round to
// the neighbouring level, no further.
func sameGrid(t *testing.T, what string, a, b *image.NRGBA) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("%s: grids of %v and %v", what, a.Bounds(), b.Bounds())
	}
	worst := 0
	for i := range a.Pix {
		worst = max(worst, abs(int(a.Pix[i])-int(b.Pix[i])))
	}
	if worst > 1 {
		t.Errorf("%s and CPU grids differ by up to %d levels", what, worst)
	}
}

func decodePNG(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	out := image.NewNRGBA(im.Bounds())
	for y := im.Bounds().Min.Y; y < im.Bounds().Max.Y; y++ {
		for x := im.Bounds().Min.X; x < im.Bounds().Max.X; x++ {
			out.Set(x, y, im.At(x, y))
		}
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestEvalOnEmulatedGPU: `lafite eval --device cuda` scores the generator as
// the CPU does, with the generator and CLIP on the emulated GPU and no op
// falling back to the host. The GPU sums in other orders, and an 8-bit
// pixel may round to the next level, so the scores agree closely, not to
// the bit.
func TestEvalOnEmulatedGPU(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data, "--quiet")
	runDir := filepath.Join(dir, "run")
	runCLI(t, append([]string{"train", "--data", data, "--clip", clipPath, "--out", runDir, "--kimg", "0.008", "--snap", "0.008"}, tinyTrainFlags...)...)
	eval := func(device string, n int) map[string]float64 {
		report := filepath.Join(dir, device+".json")
		runCLI(t, "eval", "--ckpt", filepath.Join(runDir, "generator.safetensors"), "--data", data, "--clip", clipPath,
			"--n", fmt.Sprint(n), "--batch", "5", "--device", device, "--json", report, "--quiet")
		var r map[string]any
		if err := json.Unmarshal(readFile(t, report), &r); err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, k := range []string{"fid_clip", "clip_score", "shuffled_clip_score", "real_clip_score"} {
			out[k], _ = r[k].(float64)
		}
		return out
	}
	cpu := eval("cpu", 12)
	var gpu map[string]float64
	// Each batch's GPU memory is freed before the next: what a run leaves
	// held (its models, never freed by the command) does not grow with the
	// number of batches.
	var held [2]int64
	onEmulatedGPU(t, func() {
		live0, _ := tensor.CUDAMemoryStats()
		gpu = eval("cuda", 12)
		live1, _ := tensor.CUDAMemoryStats()
		eval("cuda", 36)
		live2, _ := tensor.CUDAMemoryStats()
		held = [2]int64{live1 - live0, live2 - live1}
	})
	if held[0] <= 0 || held[1] != held[0] {
		t.Errorf("GPU memory held after 3 batches: %d bytes, after 8: %d; want the same (the models)", held[0], held[1])
	}
	// With Inception weights the network runs on the GPU too (pool.cu
	// included: no host fallback), to the host's FID and IS.
	weights := filepath.Join("..", "..", "lafite", "metrics", "inception", "testdata", "tiny_inception.pth")
	incEval := func(device string) map[string]any {
		report := filepath.Join(dir, "inception-"+device+".json")
		runCLI(t, "eval", "--ckpt", filepath.Join(runDir, "generator.safetensors"), "--data", data, "--clip", clipPath,
			"--n", "12", "--batch", "5", "--device", device, "--json", report, "--quiet", "--inception", weights,
			"--inception-stats", filepath.Join(dir, "stats-"+device+".safetensors"))
		var r map[string]any
		if err := json.Unmarshal(readFile(t, report), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	cpuInc := incEval("cpu")
	var gpuInc map[string]any
	onEmulatedGPU(t, func() { gpuInc = incEval("cuda") })
	for _, k := range []string{"fid", "is"} {
		want, _ := cpuInc[k].(float64)
		if got, _ := gpuInc[k].(float64); !(want > 0) || math.Abs(got-want) > 0.01+0.02*math.Abs(want) {
			t.Errorf("%s: %v on the emulated GPU, %v on the CPU", k, got, want)
		}
	}
	for k, want := range cpu {
		if got := gpu[k]; math.Abs(got-want) > 0.01+0.02*math.Abs(want) {
			t.Errorf("%s: %v on the emulated GPU, %v on the CPU", k, got, want)
		}
	}
}

// TestDatasetOnEmulatedGPU: `lafite dataset --device cuda` encodes with
// CLIP on the GPU (no op falling back to the host) the dataset the CPU
// builds: the same pixels, names and captions, features within float32
// rounding (TestBatchedGPUWorkLeavesNoMemoryHeld checks its memory).
func TestDatasetOnEmulatedGPU(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	build := func(device string) *lafite.DatasetFile {
		out := filepath.Join(dir, device+".safetensors")
		runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", out, "--device", device, "--quiet")
		ds, err := lafite.LoadDataset(out)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	cpu := build("cpu")
	var gpu *lafite.DatasetFile
	onEmulatedGPU(t, func() { gpu = build("cuda") })
	if !bytes.Equal(cpu.Bytes.Pix, gpu.Bytes.Pix) || !slices.Equal(cpu.Names, gpu.Names) || !slices.Equal(cpu.Captions, gpu.Captions) {
		t.Fatal("the GPU build's pixels, names or captions differ")
	}
	for _, pair := range [][2]*tensor.Tensor{{cpu.ImageFts, gpu.ImageFts}, {cpu.CaptionFts, gpu.CaptionFts}} {
		a, b := pair[0].ToSlice(), pair[1].ToSlice()
		if len(a) != len(b) {
			t.Fatalf("features of %d and %d values", len(a), len(b))
		}
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-4 {
				t.Fatalf("feature value %d: %v on the GPU, %v on the CPU", i, b[i], a[i])
			}
		}
	}
}
