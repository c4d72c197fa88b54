package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/kernels/cuda/emu"
	"github.com/lafite-go/lafite/lafite"
	"github.com/lafite-go/lafite/tensor"
)

// TestTrainDeviceFlag: --device takes cpu or cuda, and cuda without a GPU
// stops at once (before the dataset is read) with one line saying why.
func TestTrainDeviceFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"train", "--data", "x.safetensors", "--device", "tpu"}, &out, &errb); code == 0 ||
		!strings.Contains(errb.String(), `--device "tpu": want cpu or cuda`) {
		t.Errorf("--device tpu: code %d, stderr %q", code, errb.String())
	}
	if tensor.CUDAAvailable() == nil {
		t.Skip("a GPU is usable here")
	}
	errb.Reset()
	code := run([]string{"train", "--data", filepath.Join(t.TempDir(), "missing.safetensors"), "--device", "cuda"}, &out, &errb)
	if msg := errb.String(); code == 0 || !strings.HasPrefix(msg, "lafite train: --device cuda: no usable GPU: ") || strings.Count(msg, "\n") != 1 {
		t.Errorf("without a GPU: code %d, stderr %q", code, msg)
	}
}

// TestTrainOnEmulatedGPU runs `lafite train --device cuda` end to end against
// the kernel emulator: two steps with a snapshot after each (checkpoint,
// sample grid), the generator export, then --resume auto for a third step;
// no op may fall back to the host. The checkpoint loads on the host.
func TestTrainOnEmulatedGPU(t *testing.T) {
	dir, clipPath, imgDir := fixture(t)
	data := filepath.Join(dir, "data.safetensors")
	runCLI(t, "dataset", "--images", imgDir, "--res", "16", "--clip", clipPath, "--out", data)
	e := emu.New()
	defer tensor.UseCUDABackend(e, e.Props())()
	f0 := tensor.CUDAFallbackTotal()
	runDir := filepath.Join(dir, "run")
	args := append([]string{"train", "--device", "cuda", "--data", data, "--clip", clipPath, "--out", runDir, "--snap", "0.004", "--resume", "auto"}, tinyTrainFlags...)
	out := runCLI(t, append(args, "--kimg", "0.008")...)
	if !strings.Contains(out, "done: 2 steps") {
		t.Fatalf("train output:\n%s", out)
	}
	for _, f := range []string{"checkpoint.safetensors", "generator.safetensors", "samples-000001.png", "samples-000002.png"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Fatalf("missing output %s: %v", f, err)
		}
	}
	out = runCLI(t, append(args, "--kimg", "0.012")...)
	if !strings.Contains(out, "resumed from") || !strings.Contains(out, "done: 3 steps") {
		t.Fatalf("resumed train output:\n%s", out)
	}
	if n := tensor.CUDAFallbackTotal() - f0; n != 0 {
		t.Errorf("%d host fallbacks: %v", n, tensor.CUDAFallbacks())
	}
	if !strings.Contains(strings.Join(e.Launches(), " "), "resize_bicubic_adj_f32=") {
		t.Errorf("the CLIP loss's crop and resize never ran on the GPU: %v", e.Launches())
	}
	tr, err := lafite.LoadCheckpoint(filepath.Join(runDir, "checkpoint.safetensors"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Step != 3 {
		t.Fatalf("checkpoint at step %d, want 3", tr.Step)
	}
}
