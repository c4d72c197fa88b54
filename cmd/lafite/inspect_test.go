package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspect lists a network pickle's tensors and a bundled generator's
// configuration, and names what is not a checkpoint.
func TestInspect(t *testing.T) {
	var out, errb bytes.Buffer
	pkl := filepath.Join("..", "..", "torchfile", "testdata", "persistent_p4.pkl")
	gen := filepath.Join("..", "..", "lafite", "demo", "assets", "generator.safetensors")
	if code := run([]string{"inspect", pkl, gen}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"persistent_p4.pkl: PyTorch, 10 tensors",
		"G_ema.mapping.fc0.weight", "float32  [3 4]",
		"generator: none that this code builds", "no synthesis blocks",
		"generator.safetensors: safetensors (lafite-go generator v1), 119 tensors",
		"generator: {ZDim:64 WDim:64 FDim:64 Resolution:32",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"inspect", "--prefix", "G_ema.mapping.", pkl}, &out, &errb); code != 0 || !strings.Contains(out.String(), `(3 with prefix "G_ema.mapping.")`) || strings.Contains(out.String(), "augment_pipe") {
		t.Errorf("--prefix: exit %d, output:\n%s", code, out.String())
	}
	errb.Reset()
	if code := run([]string{"inspect", "inspect.go"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "inspect.go") || !strings.Contains(errb.String(), "neither safetensors nor a PyTorch file") {
		t.Errorf("a Go file: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"inspect"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "no file named") {
		t.Errorf("no file: exit %d, stderr %q", code, errb.String())
	}
}
