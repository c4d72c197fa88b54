package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lafite-go/lafite/clip"
	"github.com/lafite-go/lafite/lafite/miniclip"
)

func TestCLIPTrainWritesABundleAndATable(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "mini.safetensors")
	var stdout, stderr bytes.Buffer
	args := []string{"clip-train", "--steps", "3", "--batch", "8", "--width", "16", "--heads", "2", "--layers", "1",
		"--text-width", "16", "--text-heads", "2", "--text-layers", "1", "--lock-text", "1", "--embed", "8", "--patch", "8", "--eval", "48", "--quiet", "--out", out}
	if rc := run(args, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
	for _, want := range []string{"trained 3 steps of 8 pairs", "wrote " + out, "48 held-out images, 48 prompts",
		"joint (colour and shape)", "shape", "colour", "cosine image-true caption", "cosine image-other captions"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	m, tok, err := clip.LoadBundle(out, "")
	if err != nil {
		t.Fatal(err)
	}
	w, ok := tok.(*clip.WordTokenizer)
	if !ok || !slices.Equal(w.Words(), miniclip.Tokenizer().Words()) {
		t.Fatalf("bundle tokenizer %T does not carry the world's vocabulary", tok)
	}
	c := m.Config
	if c.VisionWidth != 16 || c.TextWidth != 16 || c.VisionLayers != 1 || c.EmbedDim != 8 || c.VisionPatch != 8 ||
		c.ImageResolution != 32 || c.VisionHeads != 2 || c.ContextLength != miniclip.ContextLength {
		t.Errorf("bundle config %+v does not match the flags", c)
	}
}

func TestCLIPTrainRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--patch", "5"}, "not a multiple of patch 5"},
		{[]string{"--width", "30", "--heads", "4"}, "does not split into 4 heads"},
		{[]string{"--text-width", "30", "--text-heads", "4"}, "does not split into 4 heads"},
		{[]string{"--steps", "0"}, "must be positive"},
		{[]string{"--batch", "1"}, "batch 1"},
		{[]string{"--eval", "0"}, "--eval"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"clip-train", "--quiet", "--out", filepath.Join(t.TempDir(), "m.safetensors")}, c.args...)
		if rc := run(args, &stdout, &stderr); rc == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want an error mentioning %q", c.args, rc, stderr.String(), c.want)
		}
	}
}

func TestClipTrainIsReachableAsASubcommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"clip", "train", "--steps", "0"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "steps") {
		t.Fatalf("lafite clip train --steps 0: exit %d, stderr %q; want the clip-train flag check", code, errb.String())
	}
}
